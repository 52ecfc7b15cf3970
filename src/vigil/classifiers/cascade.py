"""Cascades: the cheap model scores every text; the costly one only what the cheap one is unsure of.

Most posts are plainly benign, and a lexical model says so at a few thousand
texts a second on one core, while a sentence-embedding or transformer model
manages a few hundred. A cascade keeps the costly model's judgement where it
matters: per label, a first-stage score inside the uncertain band ``[low, high)``
is replaced by the second model's score; a score outside it stands. A text goes
to the second model once if any of its labels is uncertain.

The price is recall: a harmful text the cheap model scores below ``low`` never
reaches the better model. :func:`measure` puts a number on both sides (work
saved, recall lost) on labelled data, so the band is chosen, not guessed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vigil.classifiers.base import Classifier, ClassifierError, Scores, check_scores

KIND = "cascade"

Band = tuple[float, float]


@dataclass(frozen=True)
class CascadeRun:
    """Scores, and which (text, label) pairs the second model decided."""

    scores: Scores
    decided_by_then: NDArray[np.bool_]  # (n, labels)
    routed: NDArray[np.bool_]  # (n,): texts the second model scored

    @property
    def work_saved(self) -> float:
        """Share of texts the costly model never had to score."""
        return 1.0 - float(self.routed.mean()) if len(self.routed) else 1.0


class Cascade:
    """Two loaded models chained per label; satisfies :class:`Classifier`."""

    kind = KIND

    def __init__(
        self, name: str, first: Classifier, then: Classifier, bands: Mapping[str, Band]
    ) -> None:
        if not bands:
            raise ClassifierError(f"cascade '{name}' routes on no label")
        for label, (low, high) in bands.items():
            for model in (first, then):
                if label not in model.labels:
                    raise ClassifierError(
                        f"cascade '{name}': '{label}' is not a label of {model.name} "
                        f"(its labels: {', '.join(model.labels)})"
                    )
            if not 0.0 <= low <= high <= 1.0:
                raise ClassifierError(
                    f"cascade '{name}': band for '{label}' must be 0<=low<=high<=1"
                )
        self._name, self.first, self.then = name, first, then
        self._labels = tuple(bands)
        self._low = np.array([bands[x][0] for x in self._labels], dtype=np.float32)
        self._high = np.array([bands[x][1] for x in self._labels], dtype=np.float32)
        self._first_cols = [first.labels.index(x) for x in self._labels]
        self._then_cols = [then.labels.index(x) for x in self._labels]

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        return f"{self.first.name}@{self.first.version}>{self.then.name}@{self.then.version}"

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    def stage_version(self, by_then: bool) -> str:
        """The model (and version) that produced a score: what a signal records."""
        model = self.then if by_then else self.first
        return f"{model.name}@{model.version}"

    def run(self, texts: Sequence[str]) -> CascadeRun:
        n, width = len(texts), len(self._labels)
        if not n:
            empty = np.zeros((0, width), dtype=np.float32)
            return CascadeRun(empty, empty.astype(bool), np.zeros(0, dtype=bool))
        first = self.first.predict(texts)[:, self._first_cols]
        uncertain = (first >= self._low) & (first < self._high)
        routed: NDArray[np.bool_] = np.asarray(uncertain.any(axis=1), dtype=bool)
        scores = first.copy()
        rows = np.flatnonzero(routed)
        if len(rows):
            second = self.then.predict([texts[int(i)] for i in rows])[:, self._then_cols]
            sub = uncertain[rows]
            scores[rows] = np.where(sub, second, first[rows])
        return CascadeRun(check_scores(scores, n, width), uncertain, routed)

    def predict(self, texts: Sequence[str]) -> Scores:
        return self.run(texts).scores


def _recall_precision(scores: NDArray[Any], truth: NDArray[Any], threshold: float) -> Band:
    flagged = scores >= threshold
    positives = int(truth.sum())
    hits = int((flagged & truth).sum())
    recall = hits / positives if positives else 0.0
    precision = hits / int(flagged.sum()) if flagged.any() else 0.0
    return recall, precision


def measure(
    first: Classifier,
    then: Classifier,
    texts: Sequence[str],
    targets: NDArray[np.int8],
    labels: Sequence[str],
    bands: Sequence[Band],
    *,
    threshold: float = 0.5,
) -> dict[str, Any]:
    """Work saved and recall lost for each band, against the costly model run on everything.

    ``targets`` is (texts, labels) with 1, 0, or -1 where a label is unknown.
    Both models score every text once; each band's cascade is then replayed
    from those scores, which gives exactly what :meth:`Cascade.run` would.
    """
    if not texts:
        raise ClassifierError("no texts to measure the cascade on")
    started = time.perf_counter()
    first_all = first.predict(texts)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    then_all = then.predict(texts)
    then_s = time.perf_counter() - started
    fcols = [first.labels.index(x) for x in labels]
    tcols = [then.labels.index(x) for x in labels]
    f, t = first_all[:, fcols], then_all[:, tcols]
    report: dict[str, Any] = {
        "first": f"{first.name}@{first.version}",
        "then": f"{then.name}@{then.version}",
        "rows": len(texts),
        "threshold": threshold,
        "seconds": {"first_all": first_s, "then_all": then_s},
        "bands": [],
    }
    for low, high in bands:
        uncertain = (f >= low) & (f < high)
        routed = uncertain.any(axis=1)
        mixed = np.where(uncertain, t, f)
        entry: dict[str, Any] = {
            "low": low,
            "high": high,
            "routed_share": float(routed.mean()),
            "work_saved": 1.0 - float(routed.mean()),
            # Seconds the cascade would take here: the cheap pass, plus the costly model
            # on the routed share at the rate it showed on everything.
            "estimated_seconds": first_s + then_s * float(routed.mean()),
            "labels": {},
        }
        for j, label in enumerate(labels):
            known = targets[:, j] >= 0
            truth = targets[known, j] == 1
            if not known.any() or not truth.any():
                continue
            r_then, p_then = _recall_precision(t[known, j], truth, threshold)
            r_cas, p_cas = _recall_precision(mixed[known, j], truth, threshold)
            r_first, p_first = _recall_precision(f[known, j], truth, threshold)
            entry["labels"][label] = {
                "rows": int(known.sum()),
                "positives": int(truth.sum()),
                "recall_first": r_first,
                "precision_first": p_first,
                "recall_then": r_then,
                "precision_then": p_then,
                "recall_cascade": r_cas,
                "precision_cascade": p_cas,
                "recall_lost": r_then - r_cas,
                "routed_share": float(uncertain[known, j].mean()),
            }
        report["bands"].append(entry)
    return report
