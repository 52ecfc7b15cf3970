"""Hybrid heads: one logistic regression per label over lexical n-grams and a sentence embedding.

N-grams catch the words and spellings that mark abuse; the embedding catches
meaning the words do not carry. Fitting one head over both (rather than
averaging two models) lets each label weigh them itself. On the issue 4 tasks
this beat both the TF-IDF and the MiniLM baseline on the same folds, with no
parameter tuned (bench/classifier_quality.py, bench/RESULTS.md).

Stored: the lexical feature space (kept hashed columns and IDF weights, as in
:mod:`vigil.classifiers.lexical`) and the heads in ``hybrid.npz``, read without
pickle; the encoder is pinned by its files' hashes, as for embedding heads.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression

from vigil.classifiers.arrays import sigmoid, write_npz
from vigil.classifiers.base import ClassifierError, NamedModel, Scores, check_scores
from vigil.classifiers.embedding import manifest_encoder, read_arrays
from vigil.classifiers.encoders import Embeddings, Encoder, EncoderRef, Progress
from vigil.classifiers.lexical import LexicalModel, LexicalParams, feature_space
from vigil.classifiers.manifest import Manifest, write_manifest

KIND = "hybrid"
WEIGHTS = "hybrid.npz"
# Both blocks are unit-length per row, so the head sees them on the same scale; C is
# scikit-learn's default. Neither was tuned on the benchmark folds.
DEFAULT_C = 1.0


class HybridModel(NamedModel):
    """Lexical features and embeddings side by side; satisfies :class:`Classifier`."""

    kind = KIND

    def __init__(
        self,
        name: str,
        version: str,
        labels: tuple[str, ...],
        lexical: LexicalParams,
        columns: NDArray[np.int64],
        idf: NDArray[np.float32],
        encoder: Encoder,
        ref: EncoderRef,
        coef: NDArray[np.float32],
        intercept: NDArray[np.float32],
        c: float = DEFAULT_C,
    ) -> None:
        width = len(columns) + encoder.dim
        if coef.shape != (len(labels), width) or intercept.shape != (len(labels),):
            raise ClassifierError(
                f"{name}: heads of shape {coef.shape} do not fit {len(labels)} labels over "
                f"{len(columns)} n-gram columns and {encoder.dim} embedding dimensions"
            )
        super().__init__(name, version, labels)
        # The lexical part reuses the lexical model's featuriser; its own heads are unused.
        zeros = np.zeros((len(labels), len(columns)), dtype=np.float32)
        self.lexical = LexicalModel(
            name, version, labels, lexical, columns, idf, zeros, np.zeros(len(labels), np.float32)
        )
        self.encoder, self.ref, self.c = encoder, ref, c
        self.coef, self.intercept = coef.astype(np.float32), intercept.astype(np.float32)
        self._lex_w = np.ascontiguousarray(self.coef[:, : len(columns)].T, dtype=np.float32)
        self._emb_w = self.coef[:, len(columns) :].T.astype(np.float64)

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> Embeddings:
        return self.encoder.encode(texts, progress=progress)

    def predict_embeddings(self, texts: Sequence[str], embeddings: Embeddings) -> Scores:
        """Scores when the caller already holds this encoder's embeddings of ``texts``."""
        if embeddings.shape != (len(texts), self.encoder.dim):
            raise ClassifierError(f"{self.name}: embeddings do not match the texts and encoder")
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        lexical = np.asarray(self.lexical.features(texts) @ self._lex_w, dtype=np.float64)
        logits = lexical + embeddings.astype(np.float64) @ self._emb_w + self.intercept
        return check_scores(sigmoid(logits), len(texts), len(self.labels))

    def predict(self, texts: Sequence[str]) -> Scores:
        return self.predict_embeddings(texts, self.embed(texts))

    def save(self, directory: Path, training: dict[str, Any]) -> Manifest:
        directory.mkdir(parents=True, exist_ok=True)
        write_npz(
            directory / WEIGHTS,
            {
                "columns": self.lexical.columns.astype(np.int32),
                "idf": self.lexical.idf.astype(np.float16),
                "coef": self.coef.astype(np.float16),
                "intercept": self.intercept.astype(np.float32),
            },
        )
        return write_manifest(
            directory,
            name=self.name,
            version=self.version,
            kind=KIND,
            labels=self.labels,
            files=[WEIGHTS],
            params={
                "encoder": self.ref.to_json(),
                "dim": self.encoder.dim,
                "lexical": asdict(self.lexical.params),
                "c": self.c,
            },
            training=training,
        )

    @classmethod
    def load(cls, manifest: Manifest) -> HybridModel:
        """Load from a manifest whose file hashes were already verified."""
        ref, encoder = manifest_encoder(manifest)
        lexical = LexicalParams.from_manifest(manifest.params.get("lexical") or {})
        parts = read_arrays(manifest, WEIGHTS, ("columns", "idf", "coef", "intercept"))
        return cls(
            manifest.name,
            manifest.version,
            manifest.labels,
            lexical,
            parts["columns"].astype(np.int64),
            parts["idf"].astype(np.float32),
            encoder,
            ref,
            parts["coef"].astype(np.float32),
            parts["intercept"].astype(np.float32),
            float(manifest.params.get("c", DEFAULT_C)),
        )


def fit_hybrid_heads(
    lexical: sp.csr_matrix,
    embeddings: Embeddings,
    targets: NDArray[np.int8],
    labels: Sequence[str],
    c: float = DEFAULT_C,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """One balanced logistic head per label over ``[lexical | embeddings]``."""
    x = sp.hstack([lexical, sp.csr_matrix(embeddings.astype(np.float32))], format="csr")
    coef = np.zeros((len(labels), x.shape[1]), dtype=np.float32)
    intercept = np.zeros(len(labels), dtype=np.float32)
    for j, label in enumerate(labels):
        known = targets[:, j] >= 0
        y = targets[known, j]
        if y.min(initial=1) == y.max(initial=0):
            raise ClassifierError(f"label '{label}' needs both positive and negative examples")
        head = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            head.fit(x[known], y)
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
    lexical: LexicalParams | None = None,
    c: float = DEFAULT_C,
    embeddings: Embeddings | None = None,
    progress: Progress | None = None,
) -> HybridModel:
    """Featurise and encode ``texts`` once (or take ``embeddings``), then fit the heads."""
    params = lexical or LexicalParams()
    columns, idf, x = feature_space(texts, params)
    if embeddings is None:
        embeddings = encoder.encode(texts, progress=progress)
    coef, intercept = fit_hybrid_heads(x, embeddings, targets, labels, c)
    return HybridModel(
        name, version, tuple(labels), params, columns, idf, encoder, ref, coef, intercept, c
    )
