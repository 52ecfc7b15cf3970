"""What follows an upheld violation, whoever decided it: the strike, the account's
escalation, and the notifiers' outcome.

Reviewed decisions (``decisions.enforce``) and automated verdicts (``pipeline``)
both come through :func:`follow_through`, so a strike, its escalation and the
answer to the notifiers never depend on which path acted. An escalation step that
needs a second reviewer (``enforcement.four_eyes_actions``, e.g. closing the
account) and was not already approved by two people is never applied here: it
becomes an escalation verdict with a review case, and waits for four eyes there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from vigil.actions.models import Action
from vigil.actions.services import apply_action
from vigil.items.models import Item, ItemStatus
from vigil.notices import services as notices
from vigil.policy.models import Verdict
from vigil.policy.schema import ActionKind, Policy, Severity
from vigil.statements.builder import ESCALATION_RULE_ID
from vigil.strikes import services as strikes
from vigil.unit_of_work import UnitOfWork

# Rule id of the verdict an escalation step that waits for review is recorded under.
ESCALATION_RULE = ESCALATION_RULE_ID
ESCALATION_DEADLINE = timedelta(hours=24)


@dataclass
class FollowThrough:
    escalated: list[Action] = field(default_factory=list)
    held: list[ActionKind] = field(default_factory=list)
    notices_answered: int = 0
    case_opened: bool = False  # a held step opened a new case (not attached to an open one)


def is_escalation(verdict: Verdict | None) -> bool:
    """Whether a verdict records a held escalation step rather than a rule's finding."""
    return verdict is not None and verdict.rule_id == ESCALATION_RULE


def preview(uow: UnitOfWork, item: Item, category: str, policy: Policy) -> list[ActionKind]:
    """The account steps a violation in ``category`` would bring now (for four-eyes at decide)."""
    return strikes.preview_escalation(uow, item.account_id, category, policy)


def no_action(uow: UnitOfWork, *, item_id: int, decision_id: int, policy: Policy) -> int:
    """A decision found nothing wrong: the notifiers learn it (and unfounded ones are counted)."""
    return len(
        notices.record_outcome(
            uow, item_id=item_id, decision_id=decision_id, action_taken=False, policy=policy
        )
    )


def answer_by_content(uow: UnitOfWork, item_id: int, decision_id: int, policy: Policy) -> int:
    """Answer pending notices by whether the content itself was acted on (restricted or removed)."""
    item = uow.session.get(Item, item_id)
    assert item is not None
    return len(
        notices.record_outcome(
            uow,
            item_id=item_id,
            decision_id=decision_id,
            action_taken=item.status != ItemStatus.VISIBLE.value,
            policy=policy,
        )
    )


def follow_through(
    uow: UnitOfWork,
    *,
    item: Item,
    verdict: Verdict | None,
    category: str,
    policy: Policy,
    decision_id: int | None,
    first_action: Action | None,
    approved: Sequence[ActionKind],
    automated: bool,
    actor: str,
    source: str = "voluntary",
    signal_kinds: Sequence[str] = (),
) -> FollowThrough:
    """Answer the notifiers, issue the strike for an upheld violation, take the step it reaches.

    ``approved`` are the steps the decision's reviewers saw (and, where needed,
    confirmed); a four-eyes step outside it is held for review instead. An
    automated action gives a strike only under ``enforcement.automated_strikes``.
    """
    out = FollowThrough()
    out.notices_answered = len(
        notices.record_outcome(
            uow, item_id=item.id, decision_id=decision_id, action_taken=True, policy=policy
        )
    )
    if is_escalation(verdict):
        return out  # the step itself was the consequence; the strike was issued before
    if automated and not policy.enforcement.automated_strikes:
        return out
    issued = strikes.issue(
        uow,
        account_id=item.account_id,
        item_id=item.id,
        category=category,
        policy=policy,
        decision_id=decision_id,
        action_id=first_action.id if first_action is not None else None,
        actor=actor,
    )
    severe = set(policy.enforcement.four_eyes_actions)
    out.held = [s for s in issued.escalation if s in severe and s not in approved]
    allowed = [s for s in issued.escalation if s not in out.held]
    # Crossing several steps at once takes the strongest: a suspension subsumes a warning.
    if allowed:
        action = apply_action(
            uow,
            kind=allowed[-1],
            item=item,
            policy=policy,
            category=category,
            rule_id=ESCALATION_RULE,
            verdict_id=verdict.id if verdict is not None else None,
            decision_id=decision_id,
            automated=automated,
            automated_detection=source == "voluntary",
            source=source,
            actor=actor,
            signal_kinds=signal_kinds,
        )
        if action is not None:
            out.escalated.append(action)
    if out.held and verdict is not None:
        out.case_opened = _hold_for_review(uow, item, verdict, category, out.held, policy)
    return out


def _hold_for_review(
    uow: UnitOfWork,
    item: Item,
    verdict: Verdict,
    category: str,
    steps: Sequence[ActionKind],
    policy: Policy,
) -> bool:
    """Record the held step as a verdict and open a case (True) or attach it to the open one."""
    from vigil.cases.services import open_or_attach  # cases.services imports this module

    now = uow.now()
    held = Verdict(
        item_id=item.id,
        policy_version_id=verdict.policy_version_id,
        rule_id=ESCALATION_RULE,
        category=category,
        severity=Severity.HIGH.value,
        action=steps[-1].value,
        review_required=True,
        deadline_at=now + ESCALATION_DEADLINE,
        signal_ids=[],
        created_at=now,
    )
    uow.session.add(held)
    uow.session.flush()
    uow.log.record(
        "verdict.reached",
        f"item:{item.id}",
        {
            "verdict_id": held.id,
            "policy_version_id": held.policy_version_id,
            "rule_id": ESCALATION_RULE,
            "category": category,
            "severity": held.severity,
            "action": held.action,
            "review_required": True,
            "signal_ids": [],
        },
    )
    return open_or_attach(uow, held, policy)[1]
