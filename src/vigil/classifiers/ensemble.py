"""Ensembles: a weighted mean of several models' scores for the labels they share.

A lexical model keys on words and spellings, a sentence-embedding model on
meaning; they miss different texts, so the mean of their (calibrated) scores
ranks better than either. The policy gives the weights; the figures behind the
shipped suggestion are in bench/RESULTS.md (bench/classifier_quality.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from vigil.classifiers.base import Classifier, ClassifierError, Scores, check_scores

KIND = "ensemble"


class Ensemble:
    """Member models scored on the same texts and averaged; satisfies :class:`Classifier`."""

    kind = KIND

    def __init__(
        self,
        name: str,
        members: Mapping[str, Classifier],
        weights: Mapping[str, float],
        labels: Sequence[str],
    ) -> None:
        if len(members) < 2:
            raise ClassifierError(f"ensemble '{name}' needs at least two models")
        if not labels:
            raise ClassifierError(f"ensemble '{name}' has no label all its models share")
        for key, model in members.items():
            missing = [x for x in labels if x not in model.labels]
            if missing:
                raise ClassifierError(
                    f"ensemble '{name}': {model.name} has no label {', '.join(missing)}"
                )
            if not weights.get(key, 0) > 0:
                raise ClassifierError(f"ensemble '{name}': '{key}' needs a weight above 0")
        total = sum(weights[key] for key in members)
        self._name, self._labels = name, tuple(labels)
        self.members = dict(members)
        self.weights = {key: weights[key] / total for key in members}

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        return "+".join(
            f"{m.name}@{m.version}*{self.weights[k]:.3g}" for k, m in sorted(self.members.items())
        )

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    def predict(self, texts: Sequence[str]) -> Scores:
        out = np.zeros((len(texts), len(self._labels)), dtype=np.float64)
        if texts:
            for key, model in self.members.items():
                cols = [model.labels.index(x) for x in self._labels]
                out += self.weights[key] * model.predict(texts)[:, cols]
        return check_scores(out.astype(np.float32), len(texts), len(self._labels))
