"""The fast lexical model: hashed word and character n-grams, TF-IDF, one logistic head per label.

Hashing keeps no vocabulary, so the shipped weights hold no strings from the
training sets, and the feature space is fixed without storing it. Only the
hashed columns seen often enough in training are kept (their ids, IDF weights
and coefficients), which keeps the files to a few MB. Everything is stored as
numpy arrays and loaded with ``allow_pickle=False``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression

from vigil.classifiers.arrays import sigmoid, write_npz
from vigil.classifiers.base import ClassifierError, NamedModel, Scores, check_scores
from vigil.classifiers.manifest import Manifest, write_manifest

KIND = "lexical"
WEIGHTS = "weights.npz"
# Texts beyond this length add cost but rarely change a verdict: score the start.
MAX_CHARS = 5000
# Larger batches are scored in slices of this size: past it, the sparse matrices outgrow
# the CPU caches and throughput drops (bench/classifiers.py).
SLICE = 1024


@dataclass(frozen=True)
class LexicalParams:
    """How texts become features; stored in the manifest so inference matches training."""

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    hash_bits: int = 20
    min_df: int = 3
    max_features: int = 200_000
    c: float = 4.0

    @classmethod
    def from_manifest(cls, data: dict[str, Any]) -> LexicalParams:
        try:
            return cls(
                word_ngrams=(int(data["word_ngrams"][0]), int(data["word_ngrams"][1])),
                char_ngrams=(int(data["char_ngrams"][0]), int(data["char_ngrams"][1])),
                hash_bits=int(data["hash_bits"]),
                min_df=int(data["min_df"]),
                max_features=int(data["max_features"]),
                c=float(data["c"]),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ClassifierError(f"lexical model parameters are incomplete: {exc}") from exc


def _vectorizers(params: LexicalParams) -> tuple[HashingVectorizer, HashingVectorizer]:
    common: dict[str, Any] = {
        "n_features": 1 << params.hash_bits,
        "alternate_sign": False,
        "norm": None,
        "lowercase": True,
        "dtype": np.float32,
    }
    return (
        HashingVectorizer(analyzer="word", ngram_range=params.word_ngrams, **common),
        HashingVectorizer(analyzer="char_wb", ngram_range=params.char_ngrams, **common),
    )


def hashed_counts(
    texts: Sequence[str],
    params: LexicalParams,
    vectorizers: tuple[HashingVectorizer, HashingVectorizer] | None = None,
) -> sp.csr_matrix:
    """Raw n-gram counts in the hashed space (word columns first, then character columns)."""
    clipped = [t[:MAX_CHARS] for t in texts]
    word, char = vectorizers or _vectorizers(params)
    return sp.hstack([word.transform(clipped), char.transform(clipped)], format="csr")


def _narrow(counts: sp.csr_matrix, lookup: NDArray[np.int32], width: int) -> sp.csr_matrix:
    """Keep only the model's columns, renumbered to 0..width-1."""
    positions = lookup[counts.indices]
    keep = positions >= 0
    row_of = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))[keep]
    indptr = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of, minlength=counts.shape[0]), out=indptr[1:])
    return sp.csr_matrix(
        (counts.data[keep], positions[keep], indptr), shape=(counts.shape[0], width)
    )


def _weigh(narrow: sp.csr_matrix, idf: NDArray[np.float32]) -> sp.csr_matrix:
    """Sublinear term frequency times IDF, each row scaled to unit length."""
    out = narrow.copy()
    out.data = (1.0 + np.log(out.data)) * idf[out.indices]
    norms = np.sqrt(np.asarray(out.multiply(out).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    out.data /= np.repeat(norms, np.diff(out.indptr)).astype(np.float32)
    return out


class LexicalModel(NamedModel):
    """A trained lexical model; satisfies :class:`vigil.classifiers.base.Classifier`."""

    kind = KIND

    def __init__(
        self,
        name: str,
        version: str,
        labels: tuple[str, ...],
        params: LexicalParams,
        columns: NDArray[np.int64],
        idf: NDArray[np.float32],
        coef: NDArray[np.float32],
        intercept: NDArray[np.float32],
    ) -> None:
        width = 2 << params.hash_bits
        if coef.shape != (len(labels), len(columns)) or idf.shape != (len(columns),):
            raise ClassifierError(f"{name}: weight arrays do not fit {len(labels)} labels")
        if intercept.shape != (len(labels),):
            raise ClassifierError(f"{name}: intercepts do not fit {len(labels)} labels")
        if len(columns) and (columns.min() < 0 or columns.max() >= width):
            raise ClassifierError(f"{name}: feature columns outside the hashed space")
        super().__init__(name, version, labels)
        self.params = params
        self.columns, self.idf = columns, idf.astype(np.float32)
        self.coef, self.intercept = coef.astype(np.float32), intercept.astype(np.float32)
        # Laid out once for the sparse product; converting per call cost more than the product.
        self._weights = np.ascontiguousarray(self.coef.T, dtype=np.float32)
        self._vectorizers = _vectorizers(params)
        self._lookup = np.full(width, -1, dtype=np.int32)
        self._lookup[columns] = np.arange(len(columns), dtype=np.int32)

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        counts = hashed_counts(texts, self.params, self._vectorizers)
        return _weigh(_narrow(counts, self._lookup, len(self.columns)), self.idf)

    def predict(self, texts: Sequence[str]) -> Scores:
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        parts = []
        for start in range(0, len(texts), SLICE):
            x = self.features(texts[start : start + SLICE])
            parts.append(sigmoid(np.asarray(x @ self._weights, dtype=np.float64) + self.intercept))
        return check_scores(np.vstack(parts), len(texts), len(self.labels))

    def save(self, directory: Path, training: dict[str, Any]) -> Manifest:
        directory.mkdir(parents=True, exist_ok=True)
        write_npz(
            directory / WEIGHTS,
            {
                "columns": self.columns.astype(np.int32),
                "idf": self.idf.astype(np.float16),
                "coef": self.coef.astype(np.float16),
                "intercept": self.intercept.astype(np.float32),
            },
        )
        params = asdict(self.params)
        return write_manifest(
            directory,
            name=self.name,
            version=self.version,
            kind=KIND,
            labels=self.labels,
            files=[WEIGHTS],
            params=params,
            training=training,
        )

    @classmethod
    def load(cls, manifest: Manifest) -> LexicalModel:
        """Load from a manifest whose file hashes were already verified."""
        params = LexicalParams.from_manifest(manifest.params)
        try:
            with np.load(manifest.path(WEIGHTS), allow_pickle=False) as arrays:
                parts = {k: arrays[k] for k in ("columns", "idf", "coef", "intercept")}
        except (OSError, KeyError, ValueError) as exc:
            raise ClassifierError(f"{manifest.name}: cannot read {WEIGHTS}: {exc}") from exc
        return cls(
            manifest.name,
            manifest.version,
            manifest.labels,
            params,
            parts["columns"].astype(np.int64),
            parts["idf"].astype(np.float32),
            parts["coef"].astype(np.float32),
            parts["intercept"].astype(np.float32),
        )


def feature_space(
    texts: Sequence[str], params: LexicalParams
) -> tuple[NDArray[np.int64], NDArray[np.float32], sp.csr_matrix]:
    """The kept hashed columns, their IDF weights, and the training texts' weighted features."""
    counts = hashed_counts(texts, params)
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    candidates = np.flatnonzero(df >= params.min_df)
    if len(candidates) > params.max_features:
        # The most frequent columns; ties keep the lower column id, so reruns agree.
        order = np.lexsort((candidates, -df[candidates]))
        candidates = np.sort(candidates[order[: params.max_features]])
    if not len(candidates):
        raise ClassifierError("no feature occurs often enough; add data or lower min_df")
    n = counts.shape[0]
    idf = (np.log((1.0 + n) / (1.0 + df[candidates])) + 1.0).astype(np.float32)
    lookup = np.full(counts.shape[1], -1, dtype=np.int32)
    lookup[candidates] = np.arange(len(candidates), dtype=np.int32)
    x = _weigh(_narrow(counts, lookup, len(candidates)), idf)
    return candidates.astype(np.int64), idf, x


def fit(
    name: str,
    version: str,
    labels: Sequence[str],
    texts: Sequence[str],
    targets: NDArray[np.int8],
    params: LexicalParams,
) -> LexicalModel:
    """Train one logistic head per label; ``targets`` is 1, 0, or -1 where the label is unknown."""
    candidates, idf, x = feature_space(texts, params)
    coef = np.zeros((len(labels), len(candidates)), dtype=np.float32)
    intercept = np.zeros(len(labels), dtype=np.float32)
    for j, label in enumerate(labels):
        known = targets[:, j] >= 0
        y = targets[known, j]
        if y.min(initial=1) == y.max(initial=0):
            raise ClassifierError(f"label '{label}' needs both positive and negative examples")
        head = LogisticRegression(
            C=params.c, class_weight="balanced", solver="liblinear", random_state=0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            head.fit(x[known], y)
        coef[j] = head.coef_[0]
        intercept[j] = head.intercept_[0]
    return LexicalModel(
        name, version, tuple(labels), params, candidates.astype(np.int64), idf, coef, intercept
    )
