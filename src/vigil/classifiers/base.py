"""What every text classifier offers, whatever it is built on.

The policy names a classifier and one of its labels; the pipeline hands it
every new item's text in one batch. Keeping the contract this small lets
lexical models, sentence-embedding heads, local transformer or ONNX models and
exemplar similarity plug in behind the same ``kind`` switch in the registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

Scores = NDArray[np.float32]


class ClassifierError(Exception):
    """A model that cannot be used: missing, tampered with, or inconsistent."""


@runtime_checkable
class Classifier(Protocol):
    """A loaded model: one score in [0, 1] per text and label."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def labels(self) -> tuple[str, ...]: ...

    def predict(self, texts: Sequence[str]) -> Scores:
        """Scores of shape ``(len(texts), len(labels))``, each in [0, 1]."""
        ...


class NamedModel:
    """Name, version and labels: what every model reports on the signals it raises."""

    def __init__(self, name: str, version: str, labels: tuple[str, ...]) -> None:
        self._name, self._version, self._labels = name, version, tuple(labels)

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        return self._version

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels


def check_scores(scores: Scores, n_texts: int, n_labels: int) -> Scores:
    """Refuse a model output that would silently mislead the policy."""
    if scores.shape != (n_texts, n_labels):
        raise ClassifierError(
            f"model returned scores of shape {scores.shape}, expected {(n_texts, n_labels)}"
        )
    if n_texts and (not np.isfinite(scores).all() or scores.min() < 0 or scores.max() > 1):
        raise ClassifierError("model returned scores outside [0, 1]")
    return scores
