"""Sentence-embedding heads: a pinned encoder, then one logistic regression per label.

The encoder carries what words mean, so a few thousand labelled rows teach a
head what lexical n-grams would need far more data for. The heads are tiny
(labels x embedding size) and stored as a numpy archive read without pickle;
the encoder is referenced by the hashes of its files, never copied.

Callers that already hold embeddings (a cascade running several heads over the
same encoder, a benchmark) score them with :meth:`EncodedModel.predict_embeddings`
instead of encoding the texts again.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression

from vigil.classifiers.arrays import sigmoid, write_npz
from vigil.classifiers.base import ClassifierError, NamedModel, Scores, check_scores
from vigil.classifiers.encoders import Embeddings, Encoder, EncoderRef, Progress, load_encoder
from vigil.classifiers.manifest import Manifest, write_manifest

KIND = "embedding"
HEADS = "heads.npz"


class EncodedModel(NamedModel, ABC):
    """What embedding heads and exemplar sets share: identity, an encoder, texts to scores."""

    kind = ""

    def __init__(self, name: str, version: str, labels: tuple[str, ...], encoder: Encoder) -> None:
        super().__init__(name, version, labels)
        self.encoder = encoder

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> Embeddings:
        """The encoder's unit-length embeddings, for :meth:`predict_embeddings`."""
        return self.encoder.encode(texts, progress=progress)

    @abstractmethod
    def scores(self, embeddings: Embeddings) -> Scores:
        """Per-kind scoring of unit-length embeddings (already shape-checked)."""

    def predict_embeddings(self, embeddings: Embeddings) -> Scores:
        """Scores ``(n, labels)`` in [0, 1] for rows of this model's encoder's embeddings."""
        if embeddings.ndim != 2 or embeddings.shape[1] != self.encoder.dim:
            raise ClassifierError(
                f"{self.name}: embeddings of shape {embeddings.shape} do not come from its "
                f"encoder ({self.encoder.dim} dimensions)"
            )
        if not len(embeddings):
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        scores = self.scores(embeddings.astype(np.float32, copy=False))
        return check_scores(scores, len(embeddings), len(self.labels))

    def predict(self, texts: Sequence[str]) -> Scores:
        return self.predict_embeddings(self.embed(texts))


def manifest_encoder(manifest: Manifest) -> tuple[EncoderRef, Encoder]:
    """The encoder a verified manifest pins, checked file by file and loaded (cached)."""
    try:
        ref = EncoderRef.from_json(manifest.params.get("encoder"))
    except ClassifierError as exc:
        raise ClassifierError(f"{manifest.name}: {exc}") from exc
    return ref, load_encoder(ref, manifest.directory)


def read_arrays(manifest: Manifest, filename: str, keys: Sequence[str]) -> dict[str, Any]:
    """Named arrays from a verified ``.npz`` of the model, read without pickle."""
    try:
        with np.load(manifest.path(filename), allow_pickle=False) as arrays:
            return {k: arrays[k] for k in keys}
    except (OSError, KeyError, ValueError) as exc:
        raise ClassifierError(f"{manifest.name}: cannot read {filename}: {exc}") from exc


@dataclass(frozen=True)
class EmbeddingParams:
    """How the heads were fit; stored in the manifest for the record."""

    c: float = 4.0


class EmbeddingModel(EncodedModel):
    """Logistic heads over a pinned encoder; satisfies :class:`vigil.classifiers.base.Classifier`."""

    kind = KIND

    def __init__(
        self,
        name: str,
        version: str,
        labels: tuple[str, ...],
        encoder: Encoder,
        ref: EncoderRef,
        coef: NDArray[np.float32],
        intercept: NDArray[np.float32],
        params: EmbeddingParams,
    ) -> None:
        if coef.shape != (len(labels), encoder.dim) or intercept.shape != (len(labels),):
            raise ClassifierError(
                f"{name}: heads of shape {coef.shape} do not fit {len(labels)} labels over "
                f"{encoder.dim}-dimensional embeddings"
            )
        super().__init__(name, version, labels, encoder)
        self.ref, self.params = ref, params
        self.coef, self.intercept = coef.astype(np.float32), intercept.astype(np.float32)

    def scores(self, embeddings: Embeddings) -> Scores:
        return sigmoid(
            embeddings.astype(np.float64) @ self.coef.T.astype(np.float64) + self.intercept
        )

    def save(self, directory: Path, training: dict[str, Any]) -> Manifest:
        directory.mkdir(parents=True, exist_ok=True)
        write_npz(directory / HEADS, {"coef": self.coef, "intercept": self.intercept})
        return write_manifest(
            directory,
            name=self.name,
            version=self.version,
            kind=KIND,
            labels=self.labels,
            files=[HEADS],
            params={"encoder": self.ref.to_json(), "dim": self.encoder.dim, "c": self.params.c},
            training=training,
        )

    @classmethod
    def load(cls, manifest: Manifest) -> EmbeddingModel:
        """Load from a manifest whose file hashes were already verified."""
        ref, encoder = manifest_encoder(manifest)
        parts = read_arrays(manifest, HEADS, ("coef", "intercept"))
        try:
            params = EmbeddingParams(c=float(manifest.params.get("c", EmbeddingParams.c)))
        except (TypeError, ValueError) as exc:
            raise ClassifierError(f"{manifest.name}: parameter c is not a number") from exc
        return cls(
            manifest.name,
            manifest.version,
            manifest.labels,
            encoder,
            ref,
            parts["coef"].astype(np.float32),
            parts["intercept"].astype(np.float32),
            params,
        )


def fit_heads(
    embeddings: Embeddings, targets: NDArray[np.int8], labels: Sequence[str], c: float
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """One balanced logistic head per label; ``targets`` is 1, 0, or -1 where unknown."""
    coef = np.zeros((len(labels), embeddings.shape[1]), dtype=np.float32)
    intercept = np.zeros(len(labels), dtype=np.float32)
    for j, label in enumerate(labels):
        known = targets[:, j] >= 0
        y = targets[known, j]
        if y.min(initial=1) == y.max(initial=0):
            raise ClassifierError(f"label '{label}' needs both positive and negative examples")
        head = LogisticRegression(C=c, class_weight="balanced", max_iter=2000, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            head.fit(embeddings[known].astype(np.float64), y)
        coef[j] = head.coef_[0]
        intercept[j] = head.intercept_[0]
    return coef, intercept


def fit(
    name: str,
    version: str,
    labels: Sequence[str],
    texts: Sequence[str],
    targets: NDArray[np.int8],
    *,
    encoder: Encoder,
    ref: EncoderRef,
    params: EmbeddingParams | None = None,
    progress: Progress | None = None,
) -> EmbeddingModel:
    """Encode ``texts`` once and fit a head per label over the embeddings."""
    params = params or EmbeddingParams()
    embeddings = encoder.encode(texts, progress=progress)
    coef, intercept = fit_heads(embeddings, targets, labels, params.c)
    return EmbeddingModel(name, version, tuple(labels), encoder, ref, coef, intercept, params)
