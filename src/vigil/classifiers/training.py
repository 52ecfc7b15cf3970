"""Training a model from a labelled file (or building one from exemplars) into a loadable directory."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from vigil.classifiers.base import ClassifierError
from vigil.classifiers.data import LabelledSet, read_labelled
from vigil.classifiers.encoders import DEFAULT_ENCODER, Progress, encoder_ref_for, load_encoder
from vigil.classifiers.lexical import LexicalParams, fit
from vigil.classifiers.manifest import LABEL, NAME, Manifest, file_sha256

TrainKind = Literal["lexical", "embedding", "hybrid"]
TRAIN_KINDS: tuple[TrainKind, ...] = ("lexical", "embedding", "hybrid")


@dataclass(frozen=True)
class TrainResult:
    manifest: Manifest
    data: LabelledSet


def _texts_sha256(texts: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()


def _check_name(name: str) -> None:
    if not NAME.match(name):
        raise ClassifierError(f"model name '{name}' must match {NAME.pattern}")


def train_file(
    data_path: Path,
    labels: list[str],
    out: Path,
    *,
    name: str,
    version: str,
    text_column: str = "text",
    params: LexicalParams | None = None,
    kind: TrainKind = "lexical",
    encoder: str | Path = DEFAULT_ENCODER,
    c: float | None = None,
    progress: Progress | None = None,
) -> TrainResult:
    """Read ``data_path``, train one head per label, and write the model to ``out``.

    ``kind`` lexical uses ``params``; kind embedding encodes the texts with
    ``encoder`` (a packaged encoder or a directory; ``progress`` follows the
    encoding) and fits heads with inverse regularisation ``c``; kind hybrid
    does both and fits one head per label over n-grams and embedding together.
    """
    _check_name(name)
    if kind not in TRAIN_KINDS:
        raise ClassifierError(f"cannot train kind '{kind}' (trainable: {', '.join(TRAIN_KINDS)})")
    bad = [label for label in labels if not LABEL.match(label)]
    if bad or len(set(labels)) != len(labels):
        raise ClassifierError(f"labels must be distinct ids matching {LABEL.pattern}: {bad}")
    data = read_labelled(data_path, labels, text_column)
    if not data.texts:
        raise ClassifierError(f"{data_path}: no usable rows")
    training: dict[str, Any] = {
        "data_file": data_path.name,
        "data_sha256": file_sha256(data_path),
        "rows": len(data.texts),
        "skipped_rows": len(data.problems),
        "labels": data.counts(),
        "texts_sha256": _texts_sha256(data.texts),
    }
    if kind == "lexical":
        model = fit(name, version, labels, data.texts, data.targets, params or LexicalParams())
        return TrainResult(model.save(out, training), data)
    from vigil.classifiers import embedding

    # The encoder's path is recorded relative to the model, so the folder must exist first.
    out.mkdir(parents=True, exist_ok=True)
    ref = encoder_ref_for(encoder, model_dir=out)
    if kind == "hybrid":
        from vigil.classifiers import hybrid

        both = hybrid.fit(
            name,
            version,
            labels,
            data.texts,
            data.targets,
            encoder=load_encoder(ref, out),
            ref=ref,
            lexical=params,
            c=c if c is not None else hybrid.DEFAULT_C,
            progress=progress,
        )
        return TrainResult(both.save(out, training), data)
    heads = embedding.fit(
        name,
        version,
        labels,
        data.texts,
        data.targets,
        encoder=load_encoder(ref, out),
        ref=ref,
        params=embedding.EmbeddingParams(c=c) if c is not None else None,
        progress=progress,
    )
    return TrainResult(heads.save(out, training), data)


def build_exemplars(
    path: Path,
    out: Path,
    *,
    name: str,
    version: str,
    encoder: str | Path = DEFAULT_ENCODER,
) -> Manifest:
    """Read exemplar YAML at ``path``, embed and calibrate it, and write the model to ``out``."""
    from vigil.classifiers import exemplar

    _check_name(name)
    categories = exemplar.read_exemplars(path)
    out.mkdir(parents=True, exist_ok=True)
    ref = encoder_ref_for(encoder, model_dir=out)
    model = exemplar.build(name, version, categories, encoder=load_encoder(ref, out), ref=ref)
    training: dict[str, Any] = {
        "exemplars_file": path.name,
        "exemplars_sha256": file_sha256(path),
        "texts_sha256": _texts_sha256(exemplar.exemplar_texts(categories)),
        "labels": {
            label: {"exemplars": len(c.exemplars), "counter_examples": len(c.counter_examples)}
            for label, c in categories.items()
        },
    }
    return model.save(out, training)
