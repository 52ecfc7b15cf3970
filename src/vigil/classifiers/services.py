"""Running the classifiers the active policy uses over a batch of new items.

Only what the policy can act on is computed and kept: a classifier no rule
names is never run, and a score becomes a signal only at or above the lowest
threshold any rule sets for that classifier and label. Classification happens
at ingest, on the text the item arrived with; an item whose text was dropped is
never classified later.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vigil.classifiers import registry
from vigil.classifiers.base import Classifier, ClassifierError, Scores
from vigil.classifiers.cascade import Cascade
from vigil.classifiers.ensemble import Ensemble
from vigil.policy.schema import ClassifierSpec, Policy, SignalKind
from vigil.signals.drafts import ScanInput, SignalDraft


def thresholds(policy: Policy) -> dict[str, dict[str, float]]:
    """Per declared classifier and label, the lowest ``min_score`` of any rule that uses it."""
    out: dict[str, dict[str, float]] = {}
    for rule in policy.rules:
        cond = rule.when
        if SignalKind.CLASSIFIER not in cond.signals or cond.classifier is None:
            continue
        if cond.label is None or cond.min_score is None:
            continue
        per_label = out.setdefault(cond.classifier, {})
        per_label[cond.label] = min(per_label.get(cond.label, 1.0), cond.min_score)
    return out


def load_declared(name: str, spec: ClassifierSpec, base: Path | None = None) -> Classifier:
    """The model the policy declares as ``name``, refused if it is not the pinned one."""
    directory = registry.locate(name, spec.path, base)
    manifest = registry.describe(directory)
    if spec.version is not None and manifest.version != spec.version:
        raise ClassifierError(
            f"classifier '{name}' is now version {manifest.version}; the policy expects {spec.version}"
        )
    if spec.sha256 is not None and manifest.sha256 != spec.sha256:
        raise ClassifierError(f"classifier '{name}': manifest differs from the pinned SHA-256")
    return registry.load(directory)


def build_declared(policy: Policy, name: str, labels: Sequence[str]) -> Classifier:
    """The classifier declared as ``name``: a model, or a cascade or ensemble of declared ones.

    Combinations work only on ``labels`` (those the rules use), so a cascade
    routes on nothing the policy ignores.
    """
    spec = policy.classifiers[name]
    if spec.cascade is not None:
        first = build_declared(policy, spec.cascade.first, labels)
        then = build_declared(policy, spec.cascade.then, labels)
        band = spec.cascade.band
        return Cascade(name, first, then, {x: (band(x).low, band(x).high) for x in labels})
    if spec.ensemble is not None:
        members = {m: load_declared(m, policy.classifiers[m]) for m in spec.ensemble.models}
        return Ensemble(name, members, spec.ensemble.models, labels)
    return load_declared(name, spec)


def _score(
    policy: Policy, name: str, labels: Sequence[str], texts: list[str]
) -> tuple[Classifier, Scores, NDArray[np.bool_] | None]:
    """Scores from the declared classifier, and for a cascade which ones its second stage gave."""
    model = build_declared(policy, name, labels)
    if isinstance(model, Cascade):
        run = model.run(texts)
        return model, run.scores, run.decided_by_then
    return model, model.predict(texts), None


def classify_items(policy: Policy, scans: Sequence[ScanInput]) -> list[SignalDraft]:
    """One batch call per classifier the policy uses; a signal per score that reaches a rule."""
    wanted = thresholds(policy)
    batch = [(s.item_id, s.text) for s in scans if s.text and s.text.strip()]
    if not wanted or not batch:
        return []
    texts = [text for _, text in batch]
    drafts: list[SignalDraft] = []
    for name in sorted(wanted):
        model, raw, by_then = _score(policy, name, sorted(wanted[name]), texts)
        # Rounded before comparing, so the stored score is exactly what passed the threshold.
        scores = np.round(raw.astype(np.float64), 6)
        for j, label in enumerate(model.labels):
            floor = wanted[name].get(label)
            if floor is None:
                continue
            for row in (scores[:, j] >= floor).nonzero()[0]:
                score = float(scores[row, j])
                version = model.version
                if isinstance(model, Cascade) and by_then is not None:
                    # The signal names the stage that gave the score, not the whole chain.
                    version = model.stage_version(bool(by_then[row, j]))
                drafts.append(
                    SignalDraft(
                        batch[row][0],
                        SignalKind.CLASSIFIER.value,
                        label,
                        f"classifier {model.name} {version} scored {score:.3f} "
                        f"for {label} (policy threshold from {floor:g})",
                        model=model.name,
                        model_version=version,
                        score=score,
                    )
                )
    drafts.sort(key=lambda d: d.item_id)
    return drafts
