"""Deciding cases, and the second reviewer's confirmation that severe decisions wait for.

A violating decision names the policy clause it breaks and may take several
actions. It waits for a second reviewer (four-eyes) when its category says so or
when any of its actions, strike escalation included, is in
``policy.enforcement.four_eyes_actions``; until then nothing is applied. Every
final decision's actions are applied in one place, :func:`enforce`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from vigil.actions.models import Action
from vigil.actions.services import apply_action
from vigil.cases import consequences
from vigil.cases.claims import settle, take
from vigil.cases.core import UNDECIDED, CaseError, end_hold, get_case, person, transition
from vigil.cases.models import (
    Case,
    CaseStatus,
    Decision,
    DecisionStatus,
    Outcome,
    RefusalReason,
)
from vigil.cases.queue import note_missed
from vigil.items.models import Item, Notice
from vigil.policy.models import Verdict
from vigil.policy.schema import ESCALATION_ACTIONS, ActionKind, Policy
from vigil.signals.models import Signal
from vigil.unit_of_work import UnitOfWork


def needs_four_eyes(
    policy: Policy, clause: str, actions: Sequence[ActionKind], escalation: Sequence[ActionKind]
) -> bool:
    """Whether a violating decision waits for a second reviewer's confirmation."""
    if policy.category(clause).four_eyes:
        return True
    severe = set(policy.enforcement.four_eyes_actions)
    return any(kind in severe for kind in [*actions, *escalation])


def _decision_source(uow: UnitOfWork, item_id: int) -> str:
    """The DSA source of a decision: a trusted flagger's notice, else a user's, else own initiative."""
    reporters = set(
        uow.session.scalars(select(Notice.reporter_type).where(Notice.item_id == item_id))
    )
    if "trusted_flagger" in reporters:
        return "trusted_flagger"
    return "article_16" if reporters else "voluntary"


def enforce(uow: UnitOfWork, case: Case, decision: Decision, policy: Policy) -> list[Action]:
    """Apply a final decision: a violating one's actions, then what follows from them.

    The one place a reviewed decision takes effect, whether it was final at once
    or confirmed by a second reviewer. What follows (the strike, the account steps
    it crosses, the notifiers' outcome) is ``consequences.follow_through``; the
    decision's ``escalation`` is what its reviewers saw and approved. A
    not-violating decision answers the notifiers; an escalation waits.
    Returns the actions newly applied.
    """
    assert decision.status == DecisionStatus.FINAL.value
    if decision.outcome == Outcome.NOT_VIOLATING.value:
        if consequences.is_escalation(uow.session.get(Verdict, case.verdict_id)):
            # The case was about the account; notices that arrived meanwhile are about
            # the content, which an earlier decision may already have acted on.
            consequences.answer_by_content(uow, case.item_id, decision.id, policy)
        else:
            consequences.no_action(
                uow, item_id=case.item_id, decision_id=decision.id, policy=policy
            )
    if decision.outcome != Outcome.VIOLATING.value:
        return []
    item = uow.session.get(Item, case.item_id)
    assert item is not None
    source = _decision_source(uow, item.id)
    verdict = uow.session.get(Verdict, case.verdict_id)
    kinds = sorted(set(uow.session.scalars(select(Signal.kind).where(Signal.item_id == item.id))))
    category = decision.clause or case.category
    actor = decision.confirmed_by or decision.reviewer
    applied: list[Action] = []
    for kind in decision.actions:
        action = apply_action(
            uow,
            kind=ActionKind(kind),
            item=item,
            policy=policy,
            category=category,
            rule_id=verdict.rule_id if verdict else None,
            decision_id=decision.id,
            automated=False,
            automated_detection=source == "voluntary",
            source=source,
            actor=actor,
            signal_kinds=kinds,
        )
        if action is not None:
            applied.append(action)
    followed = consequences.follow_through(
        uow,
        item=item,
        verdict=verdict,
        category=category,
        policy=policy,
        decision_id=decision.id,
        first_action=applied[0] if applied else None,
        approved=[ActionKind(k) for k in decision.escalation],
        automated=False,
        actor=actor,
        source=source,
        signal_kinds=kinds,
    )
    return applied + followed.escalated


def _check_outcome(
    policy: Policy,
    outcome: Outcome,
    actions: Sequence[ActionKind],
    clause: str | None,
    escalation: Sequence[ActionKind],
) -> None:
    if clause and clause not in policy.categories:
        raise CaseError(
            f"clause: {clause!r} is not a category of policy {policy.policy} {policy.version}"
        )
    if outcome is Outcome.VIOLATING:
        if not clause:
            raise CaseError("clause: a violating decision names the policy category it breaks")
        for kind in escalation:
            if kind not in ESCALATION_ACTIONS:
                raise CaseError(f"escalation: {kind.value} is not an account action")
        return
    if actions:
        raise CaseError("actions: only a violating decision takes actions")
    if escalation:
        raise CaseError("escalation: only a violating decision escalates on the account")


def _escalation_preview(
    uow: UnitOfWork, case: Case, clause: str, policy: Policy
) -> list[ActionKind]:
    """The account steps this violation's strike would cross, so four-eyes can see them."""
    if consequences.is_escalation(uow.session.get(Verdict, case.verdict_id)):
        return []
    item = uow.session.get(Item, case.item_id)
    assert item is not None
    return consequences.preview(uow, item, clause, policy)


def decide(
    uow: UnitOfWork,
    case_id: int,
    *,
    reviewer: str,
    outcome: Outcome,
    policy: Policy,
    actions: Sequence[ActionKind] | None = None,
    clause: str | None = None,
    note: str | None = None,
    user_message: str | None = None,
    escalation: Sequence[ActionKind] = (),
) -> Decision:
    """Record a person's decision. A violating one is applied at once, or waits for a second
    reviewer when four-eyes applies.

    ``note`` is internal; ``user_message`` is what the affected user is told.
    ``escalation`` is the strike escalation the reviewers approve (previewed from the
    account's strikes when not given); which step is taken is the strike's to decide,
    at :func:`enforce`, and a four-eyes step they did not approve is held for review.
    Deciding a case nobody holds claims it first; a case someone else holds is refused.
    """
    reviewer = person(reviewer)
    case = get_case(uow, case_id)
    if case.status == CaseStatus.CLOSED.value:
        raise CaseError(f"case #{case_id} is already closed")
    if case.status not in UNDECIDED:
        raise CaseError(
            f"case #{case_id} awaits a second reviewer's confirmation (vigil review confirm/refuse)"
        )
    chosen: list[ActionKind] = []
    if outcome is Outcome.VIOLATING:
        chosen = list(dict.fromkeys(actions or [ActionKind(case.proposed_action)]))
    _check_outcome(policy, outcome, actions or [], clause, escalation)
    steps = list(dict.fromkeys(escalation))
    if outcome is Outcome.VIOLATING and not steps:
        steps = _escalation_preview(uow, case, str(clause), policy)
    four_eyes = outcome is Outcome.VIOLATING and needs_four_eyes(policy, str(clause), chosen, steps)
    take(uow, case, reviewer, policy)
    note_missed(uow, case)
    decision = Decision(
        case_id=case.id,
        reviewer=reviewer,
        outcome=outcome.value,
        clause=clause,
        actions=[a.value for a in chosen],
        escalation=[a.value for a in steps],
        note=note,
        user_message=user_message,
        status=(
            DecisionStatus.AWAITING_CONFIRMATION.value if four_eyes else DecisionStatus.FINAL.value
        ),
        decided_at=uow.now(),
    )
    uow.session.add(decision)
    uow.session.flush()
    transition(
        uow,
        case,
        "case.decided",
        {
            "decision_id": decision.id,
            "outcome": outcome.value,
            "clause": clause,
            "actions": decision.actions,
            "escalation": decision.escalation,
            "four_eyes": four_eyes,
        },
        reviewer,
    )
    end_hold(case)
    if not four_eyes:
        enforce(uow, case, decision, policy)
    return decision


def pending_decision(uow: UnitOfWork, case: Case) -> Decision:
    """The decision on ``case`` that awaits a second reviewer."""
    decision = uow.session.scalar(
        select(Decision).where(
            Decision.case_id == case.id,
            Decision.status == DecisionStatus.AWAITING_CONFIRMATION.value,
        )
    )
    if case.status != CaseStatus.AWAITING_CONFIRMATION.value or decision is None:
        raise CaseError(f"case #{case.id} has no decision awaiting confirmation")
    return decision


def _second_reviewer(uow: UnitOfWork, case_id: int, reviewer: str) -> tuple[Case, Decision, str]:
    reviewer = person(reviewer)
    case = get_case(uow, case_id)
    decision = pending_decision(uow, case)
    if decision.reviewer == reviewer:
        raise CaseError(
            f"case #{case_id}: {reviewer} made this decision; a different reviewer confirms or "
            "refuses it"
        )
    settle(uow, case, reviewer)
    return case, decision, reviewer


def confirm(uow: UnitOfWork, case_id: int, reviewer: str, policy: Policy) -> Decision:
    """A second, different reviewer confirms a four-eyes decision: now its actions are applied."""
    case, decision, reviewer = _second_reviewer(uow, case_id, reviewer)
    note_missed(uow, case)
    decision.status = DecisionStatus.FINAL.value
    decision.confirmed_by = reviewer
    decision.confirmed_at = uow.now()
    uow.session.flush()
    transition(
        uow,
        case,
        "case.confirmed",
        {"decision_id": decision.id, "outcome": decision.outcome},
        reviewer,
    )
    end_hold(case)
    enforce(uow, case, decision, policy)
    return decision


def refuse_confirmation(
    uow: UnitOfWork,
    case_id: int,
    reviewer: str,
    reason_code: RefusalReason | str,
    note: str | None = None,
) -> Decision:
    """A second reviewer sends a four-eyes decision back: nothing is applied, the case is open again.

    ``reason_code`` is one of :class:`RefusalReason`; ``note`` is internal.
    """
    try:
        reason = RefusalReason(reason_code)
    except ValueError as exc:
        raise CaseError(
            f"reason: {reason_code!r} is not one of {', '.join(r.value for r in RefusalReason)}"
        ) from exc
    case, decision, reviewer = _second_reviewer(uow, case_id, reviewer)
    decision.status = DecisionStatus.REFUSED.value
    decision.refused_by = reviewer
    decision.refused_at = uow.now()
    decision.refusal_reason = reason.value
    decision.refusal_note = note
    uow.session.flush()
    transition(
        uow,
        case,
        "case.confirmation_refused",
        {"decision_id": decision.id, "reason_code": reason.value},
        reviewer,
    )
    end_hold(case)
    return decision
