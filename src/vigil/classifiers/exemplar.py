"""Exemplar sets: a category defined by a handful of example texts, scored by similarity.

Some harms have no public labelled data (violent-extremist propaganda among
them), but a trust & safety team can write or collect a few reviewed examples.
A text scores by its cosine similarity to the nearest exemplar of each label,
mapped to [0, 1] by a logistic curve calibrated per label when the set is built:

* ``typical``: the median, over exemplars, of each one's similarity to its
  nearest *other* exemplar (leave-one-out), i.e. how close a new member of the
  category usually comes to the set.
* ``midpoint`` (score 0.5): the similarity threshold that best separates those
  leave-one-out similarities from the counter-examples' nearest-exemplar
  similarities (highest balanced accuracy; among equals, the widest gap). Without
  counter-examples it is ``NO_COUNTER_MARGIN`` below the lowest leave-one-out
  similarity, so every exemplar would still be recognised from the others.
* ``scale``: chosen so that ``typical`` scores ``TYPICAL_SCORE`` (0.9).

So ``score = 1 / (1 + exp(-(similarity - midpoint) / scale))``. The texts are
kept in ``exemplars.json`` (hashed in the manifest, for review and rebuilds) and
their embeddings in ``exemplars.npz``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vigil.classifiers.arrays import sigmoid, write_npz
from vigil.classifiers.base import ClassifierError, Scores
from vigil.classifiers.embedding import EncodedModel, manifest_encoder, read_arrays
from vigil.classifiers.encoders import Embeddings, Encoder, EncoderRef
from vigil.classifiers.manifest import LABEL, Manifest, write_manifest
from vigil.policy.parser import ParsedDocument, format_path, parse_yaml

KIND = "exemplar"
TEXTS = "exemplars.json"
VECTORS = "exemplars.npz"
MIN_EXEMPLARS = 3
TYPICAL_SCORE = 0.9
NO_COUNTER_MARGIN = 0.05
_KEYS = ("exemplars", "counter_examples")


class ExemplarFileError(ClassifierError):
    """Everything wrong with an exemplar file, one ``FILE:LINE:COLUMN: error: ...`` line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Category:
    """One label's example texts, and the texts that must not score high for it."""

    exemplars: tuple[str, ...]
    counter_examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Calibration:
    """How a label's nearest-exemplar similarity becomes a score (see the module docstring)."""

    midpoint: float
    scale: float
    typical: float

    def to_json(self) -> dict[str, float]:
        return {"midpoint": self.midpoint, "scale": self.scale, "typical": self.typical}

    @classmethod
    def from_json(cls, data: Any, label: str) -> Calibration:
        try:
            out = cls(float(data["midpoint"]), float(data["scale"]), float(data["typical"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ClassifierError(f"calibration of label '{label}' is incomplete: {exc}") from exc
        if not out.scale > 0:
            raise ClassifierError(f"calibration of label '{label}' needs a positive scale")
        return out


def _issue(source: str, doc: ParsedDocument, path: tuple[str | int, ...], message: str) -> str:
    line, column = doc.position(path)
    where = f" (at {format_path(path)})" if path else ""
    return f"{source}:{line}:{column}: error: {message}{where}"


def _texts(
    value: Any, label: str, key: str, source: str, doc: ParsedDocument, out: list[str]
) -> dict[int, str]:
    """The usable entries of one list, by their index in the file (stripped of outer space)."""
    path: tuple[str | int, ...] = (label, key)
    if not isinstance(value, list):
        out.append(_issue(source, doc, path, f"{key} of '{label}' must be a list of texts"))
        return {}
    texts: dict[int, str] = {}
    seen: dict[str, int] = {}
    for i, text in enumerate(value):
        if not isinstance(text, str) or not text.strip():
            out.append(_issue(source, doc, (*path, i), f"{key} entry {i} must be non-empty text"))
        elif text.strip() in seen:
            first = seen[text.strip()]
            out.append(_issue(source, doc, (*path, i), f"{key} entry {i} repeats entry {first}"))
        else:
            seen[text.strip()] = i
            texts[i] = text.strip()
    return texts


def parse_exemplars(text: str, source: str) -> dict[str, Category]:
    """Labels and their texts from exemplar YAML; every problem is reported with its line.

    Each label maps to a list of exemplar texts, or to a mapping with
    ``exemplars`` and optional ``counter_examples``.
    """
    if not text.strip():
        raise ExemplarFileError(
            [
                f"{source}:1:1: error: the file is empty; expected a mapping of label -> example texts"
            ]
        )
    doc = parse_yaml(text)
    problems = [f"{source}:{i.line}:{i.column}: error: {i.message}" for i in doc.issues]
    data = doc.data
    if not problems and (not isinstance(data, dict) or not data):
        problems.append(
            f"{source}:1:1: error: expected a mapping of label -> example texts "
            "(or -> exemplars and counter_examples)"
        )
    out: dict[str, Category] = {}
    for label, value in data.items() if isinstance(data, dict) and not problems else []:
        if not LABEL.match(label):
            problems.append(
                _issue(source, doc, (label,), f"label '{label}' must match {LABEL.pattern}")
            )
            continue
        spec = value if isinstance(value, dict) else {"exemplars": value}
        for key in sorted(set(spec) - set(_KEYS)):
            problems.append(
                _issue(
                    source,
                    doc,
                    (label, key),
                    f"unknown key '{key}' for '{label}' (expected: {', '.join(_KEYS)})",
                )
            )
        if "exemplars" not in spec:
            problems.append(_issue(source, doc, (label,), f"'{label}' needs exemplars"))
            continue
        found = len(problems)
        exemplars = _texts(spec["exemplars"], label, "exemplars", source, doc, problems)
        counters = _texts(
            spec.get("counter_examples", []), label, "counter_examples", source, doc, problems
        )
        if len(problems) == found and len(exemplars) < MIN_EXEMPLARS:
            problems.append(
                _issue(
                    source,
                    doc,
                    (label, "exemplars"),
                    f"'{label}' has {len(exemplars)} exemplars; at least {MIN_EXEMPLARS} are needed",
                )
            )
        for i, counter in counters.items():
            if counter in exemplars.values():
                problems.append(
                    _issue(
                        source,
                        doc,
                        (label, "counter_examples", i),
                        f"counter_examples entry {i} is also an exemplar of '{label}'",
                    )
                )
        out[label] = Category(tuple(exemplars.values()), tuple(counters.values()))
    if problems:
        raise ExemplarFileError(problems)
    return out


def read_exemplars(path: Path) -> dict[str, Category]:
    """:func:`parse_exemplars` of a file, with errors naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ClassifierError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ClassifierError(f"{path} is not UTF-8 text") from exc
    return parse_exemplars(text, str(path))


def _midpoint(positive: NDArray[np.float64], negative: NDArray[np.float64]) -> tuple[float, float]:
    """The threshold with the best balanced accuracy (and that accuracy); ties: the widest gap."""
    values = np.unique(np.concatenate([positive, negative]))
    edges = np.concatenate([[values[0] - 0.5], values, [values[-1] + 0.5]])
    candidates: list[tuple[float, float, float]] = []
    for low, high in pairwise(edges):
        threshold = float(low + high) / 2
        accuracy = float(np.mean(positive > threshold) + np.mean(negative < threshold)) / 2
        # Ties prefer the widest gap, then the lowest threshold (reruns agree).
        candidates.append((accuracy, float(high - low), -threshold))
    best = max(candidates)
    return -best[2], best[0]


def calibrate(exemplars: Embeddings, counters: Embeddings, label: str) -> Calibration:
    """The label's score curve from its exemplars' and counter-examples' embeddings."""
    sims = exemplars.astype(np.float64) @ exemplars.T.astype(np.float64)
    np.fill_diagonal(sims, -np.inf)
    loo = sims.max(axis=1)
    typical = float(np.median(loo))
    if len(counters):
        nearest = (counters.astype(np.float64) @ exemplars.T.astype(np.float64)).max(axis=1)
        midpoint, balanced = _midpoint(loo, nearest)
    else:
        midpoint, balanced = float(loo.min()) - NO_COUNTER_MARGIN, 1.0
    # At 0.5 no threshold tells the two groups apart better than a coin would.
    if balanced <= 0.5 or typical - midpoint < 1e-3:
        raise ClassifierError(
            f"label '{label}': the counter-examples come as close to the exemplars as the "
            f"exemplars come to each other (typical similarity {typical:.3f}, threshold "
            f"{midpoint:.3f}); make the exemplars more alike or the counter-examples more distinct"
        )
    scale = (typical - midpoint) / math.log(TYPICAL_SCORE / (1 - TYPICAL_SCORE))
    return Calibration(round(midpoint, 6), round(scale, 6), round(typical, 6))


class ExemplarModel(EncodedModel):
    """Nearest-exemplar similarity per label; satisfies :class:`vigil.classifiers.base.Classifier`."""

    kind = KIND

    def __init__(
        self,
        name: str,
        version: str,
        categories: dict[str, Category],
        encoder: Encoder,
        ref: EncoderRef,
        vectors: Embeddings,
        owner: NDArray[np.int32],
        calibration: dict[str, Calibration],
    ) -> None:
        labels = tuple(categories)
        counts = [len(c.exemplars) for c in categories.values()]
        if vectors.shape != (sum(counts), encoder.dim) or owner.shape != (len(vectors),):
            raise ClassifierError(f"{name}: exemplar embeddings do not match {TEXTS}")
        if np.bincount(owner, minlength=len(labels)).tolist() != counts:
            raise ClassifierError(f"{name}: exemplar embeddings do not match {TEXTS}")
        if set(calibration) != set(labels):
            raise ClassifierError(f"{name}: every label needs a calibration")
        super().__init__(name, version, labels, encoder)
        self.categories, self.ref, self.calibration = categories, ref, calibration
        self.vectors, self.owner = vectors.astype(np.float32), owner.astype(np.int32)
        self._midpoint = np.array([calibration[x].midpoint for x in labels])
        self._scale = np.array([calibration[x].scale for x in labels])

    def similarities(self, embeddings: Embeddings) -> NDArray[np.float64]:
        """Per text and label, the cosine similarity to the nearest exemplar."""
        sims = embeddings.astype(np.float64) @ self.vectors.T.astype(np.float64)
        out = np.empty((len(embeddings), len(self.labels)))
        for j in range(len(self.labels)):
            out[:, j] = sims[:, self.owner == j].max(axis=1)
        return out

    def scores(self, embeddings: Embeddings) -> Scores:
        return sigmoid((self.similarities(embeddings) - self._midpoint) / self._scale)

    def save(self, directory: Path, training: dict[str, Any]) -> Manifest:
        directory.mkdir(parents=True, exist_ok=True)
        body = {
            label: {"exemplars": list(c.exemplars), "counter_examples": list(c.counter_examples)}
            for label, c in self.categories.items()
        }
        text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
        (directory / TEXTS).write_text(text, encoding="utf-8")
        write_npz(directory / VECTORS, {"vectors": self.vectors, "owner": self.owner})
        return write_manifest(
            directory,
            name=self.name,
            version=self.version,
            kind=KIND,
            labels=self.labels,
            files=[TEXTS, VECTORS],
            params={
                "encoder": self.ref.to_json(),
                "dim": self.encoder.dim,
                "calibration": {k: v.to_json() for k, v in self.calibration.items()},
            },
            training=training,
        )

    @classmethod
    def load(cls, manifest: Manifest) -> ExemplarModel:
        """Load from a manifest whose file hashes were already verified."""
        try:
            body = json.loads(manifest.path(TEXTS).read_text(encoding="utf-8"))
            categories = {
                label: Category(
                    tuple(body[label]["exemplars"]), tuple(body[label]["counter_examples"])
                )
                for label in manifest.labels
            }
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ClassifierError(f"{manifest.name}: cannot read {TEXTS}: {exc}") from exc
        raw = manifest.params.get("calibration")
        if not isinstance(raw, dict):
            raise ClassifierError(f"{manifest.name}: the manifest has no calibration")
        calibration = {x: Calibration.from_json(raw.get(x), x) for x in manifest.labels}
        ref, encoder = manifest_encoder(manifest)
        arrays = read_arrays(manifest, VECTORS, ("vectors", "owner"))
        return cls(
            manifest.name,
            manifest.version,
            categories,
            encoder,
            ref,
            arrays["vectors"].astype(np.float32),
            arrays["owner"].astype(np.int32),
            calibration,
        )


def build(
    name: str,
    version: str,
    categories: dict[str, Category],
    *,
    encoder: Encoder,
    ref: EncoderRef,
) -> ExemplarModel:
    """Encode every label's texts once and calibrate each label's score curve."""
    embedded = encoder.encode(exemplar_texts(categories))
    vectors: list[Embeddings] = []
    owner: list[int] = []
    calibration: dict[str, Calibration] = {}
    start = 0
    for j, (label, category) in enumerate(categories.items()):
        k, m = len(category.exemplars), len(category.counter_examples)
        mine, counters = embedded[start : start + k], embedded[start + k : start + k + m]
        start += k + m
        calibration[label] = calibrate(mine, counters, label)
        vectors.append(mine)
        owner.extend([j] * k)
    return ExemplarModel(
        name,
        version,
        categories,
        encoder,
        ref,
        np.vstack(vectors),
        np.array(owner, dtype=np.int32),
        calibration,
    )


def exemplar_texts(categories: dict[str, Category]) -> list[str]:
    """Every text of the set in file order: each label's exemplars, then its counter-examples."""
    return [t for c in categories.values() for t in (*c.exemplars, *c.counter_examples)]
