"""Training a model from a labelled file into a directory the registry can load."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigil.classifiers.base import ClassifierError
from vigil.classifiers.data import LabelledSet, read_labelled
from vigil.classifiers.lexical import LexicalParams, fit
from vigil.classifiers.manifest import LABEL, NAME, Manifest, file_sha256


@dataclass(frozen=True)
class TrainResult:
    manifest: Manifest
    data: LabelledSet


def train_file(
    data_path: Path,
    labels: list[str],
    out: Path,
    *,
    name: str,
    version: str,
    text_column: str = "text",
    params: LexicalParams | None = None,
) -> TrainResult:
    """Read ``data_path``, train one head per label, and write the model to ``out``."""
    if not NAME.match(name):
        raise ClassifierError(f"model name '{name}' must match {NAME.pattern}")
    bad = [label for label in labels if not LABEL.match(label)]
    if bad or len(set(labels)) != len(labels):
        raise ClassifierError(f"labels must be distinct ids matching {LABEL.pattern}: {bad}")
    data = read_labelled(data_path, labels, text_column)
    if not data.texts:
        raise ClassifierError(f"{data_path}: no usable rows")
    params = params or LexicalParams()
    model = fit(name, version, labels, data.texts, data.targets, params)
    training: dict[str, Any] = {
        "data_file": data_path.name,
        "data_sha256": file_sha256(data_path),
        "rows": len(data.texts),
        "skipped_rows": len(data.problems),
        "labels": data.counts(),
        "texts_sha256": hashlib.sha256("\n".join(data.texts).encode("utf-8")).hexdigest(),
    }
    return TrainResult(model.save(out, training), data)
