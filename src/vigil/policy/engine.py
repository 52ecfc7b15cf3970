"""Execute a validated policy: signals in, at most one verdict out.

Every rule whose condition holds is a candidate; the most severe candidate wins,
and among equals the rule written first. The verdict lists the signals that
made its rule fire, so a reviewer can see exactly why. A rule that may act
alone never does so on a signal from a quarantined bank entry: unless its
other signals suffice, the verdict requires review instead. Several notices
about one item from the same notifier count once towards ``min_count``: one
person reporting again and again is not several people reporting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from vigil.policy.schema import ActionKind, Policy, Review, Rule, Severity, SignalKind


@dataclass(frozen=True)
class SignalFacts:
    """What the policy may know about one signal."""

    ref: int
    kind: SignalKind
    bank: str | None = None
    bank_category: str | None = None
    notice_category: str | None = None
    # From a bank entry under match-rate quarantine: never enough to act alone.
    quarantined: bool = False
    # Classifier signals: which model, which of its labels, and the score it gave.
    model: str | None = None
    label: str | None = None
    score: float | None = None
    # Notice signals: who filed the notice (None when anonymous, which counts each notice).
    notifier: str | None = None


@dataclass(frozen=True)
class VerdictDraft:
    rule_id: str
    category: str
    severity: Severity
    action: ActionKind
    review_required: bool
    deadline: timedelta | None
    signal_refs: tuple[int, ...]
    # Quarantined signals the rule needed: they turned an automatic verdict into a case.
    held: tuple[int, ...] = ()

    def held_payload(self) -> dict[str, object]:
        """What the verdict event adds when the safeguard held it for review."""
        if not self.held:
            return {}
        return {
            "held_for_review": "bank_entry_quarantined",
            "quarantined_signal_ids": list(self.held),
        }


def _matches(rule: Rule, signal: SignalFacts) -> bool:
    cond = rule.when
    if signal.kind not in cond.signals:
        return False
    if cond.banks is not None and signal.bank not in cond.banks:
        return False
    if cond.bank_categories is not None and signal.bank_category not in cond.bank_categories:
        return False
    if signal.kind is SignalKind.CLASSIFIER and not _classifier_holds(rule, signal):
        return False
    return not (
        cond.notice_categories is not None and signal.notice_category not in cond.notice_categories
    )


def _classifier_holds(rule: Rule, signal: SignalFacts) -> bool:
    """The signal comes from the rule's classifier and label, at or above its threshold."""
    cond = rule.when
    if cond.classifier is not None and signal.model != cond.classifier:
        return False
    if cond.label is not None and signal.label != cond.label:
        return False
    return cond.min_score is None or (signal.score is not None and signal.score >= cond.min_score)


def _weight(signals: Sequence[SignalFacts], refs: Sequence[int]) -> int:
    """How many independent signals ``refs`` are: one per notifier for notices."""
    by_ref = {s.ref: s for s in signals}
    sources: set[object] = set()
    for ref in refs:
        s = by_ref[ref]
        if s.kind is SignalKind.NOTICE and s.notifier is not None:
            sources.add(("notifier", s.notifier))
        else:
            sources.add(("signal", ref))
    return len(sources)


def evaluate(policy: Policy, signals: Sequence[SignalFacts]) -> VerdictDraft | None:
    """The verdict for one item, or ``None`` when no rule fires."""
    if not signals:
        return None
    best: tuple[int, int, Rule, tuple[int, ...]] | None = None
    for position, rule in enumerate(policy.rules):
        refs = tuple(s.ref for s in signals if _matches(rule, s))
        if _weight(signals, refs) < rule.when.min_count:
            continue
        key = (rule.severity.rank, -position)
        if best is None or key > (best[0], best[1]):
            best = (key[0], key[1], rule, refs)
    if best is None:
        return None
    rule, refs = best[2], best[3]
    review, deadline = rule.review is Review.REQUIRED, rule.deadline_delta
    held: tuple[int, ...] = ()
    quarantined = {s.ref for s in signals if s.quarantined}
    if not review and quarantined.intersection(refs):
        healthy = tuple(r for r in refs if r not in quarantined)
        if _weight(signals, healthy) >= rule.when.min_count:
            # The rule fires on healthy evidence alone: act on that, as the rule says.
            refs = healthy
        else:
            review, held = True, tuple(r for r in refs if r in quarantined)
            deadline = deadline or policy.safeguards.match_rate.deadline_delta
    return VerdictDraft(
        rule_id=rule.id,
        category=rule.category,
        severity=rule.severity,
        action=rule.action,
        review_required=review,
        deadline=deadline,
        signal_refs=refs,
        held=held,
    )
