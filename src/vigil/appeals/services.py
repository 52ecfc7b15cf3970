"""Filing, claiming and deciding appeals (DSA Art. 20).

An affected user appeals the actions taken against them (a person's decision,
or an automated action); a notifier appeals a decision not to act on their
notice. Appeals are open for ``policy.appeals.window`` after the appellant was
told, are due within ``policy.appeals.deadline``, and are decided by a person
who neither made nor confirmed the original decision, never by automation
alone. A reversal undoes every action of the decision and removes its strikes.
``Appeal.status`` is a projection: every change goes through :func:`_transition`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, or_, select, update

from vigil.actions.models import Action
from vigil.actions.services import reverse_action
from vigil.appeals import reducer
from vigil.appeals.models import Appeal, AppealOutcome, AppealStatus, AppellantKind
from vigil.cases import services as cases
from vigil.cases.models import Case, Decision, Outcome
from vigil.items.models import Account, Item, Notice
from vigil.policy.schema import Policy
from vigil.referrals import services as referrals
from vigil.statements.models import StatementOfReasons
from vigil.strikes import services as strikes
from vigil.strikes.models import Strike
from vigil.unit_of_work import UnitOfWork

# Names automated processes act under: an appeal is never decided by one of them.
AUTOMATION_ACTORS = frozenset({"system", "automation", "vigil"})


class AppealError(ValueError):
    pass


def _person(name: str, field: str = "reviewer") -> str:
    who = name.strip()
    if not who:
        raise AppealError(f"{field}: a person's name is required")
    if who.casefold() in AUTOMATION_ACTORS:
        raise AppealError(f"{field}: {who!r} is automation; an appeal is decided by a person")
    return who


def _same_person(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def _deciders(decision: Decision) -> set[str]:
    """Who made or confirmed the decision: none of them may decide an appeal against it."""
    people = {decision.reviewer}
    if decision.confirmed_by:
        people.add(decision.confirmed_by)
    return people


def _transition(
    uow: UnitOfWork, appeal: Appeal, event_type: str, payload: dict[str, Any], actor: str
) -> None:
    current = AppealStatus(appeal.status) if event_type != "appeal.filed" else None
    new = reducer.apply(current, event_type, payload)
    assert new is not None
    appeal.status = new.value
    uow.session.flush()
    uow.log.record(event_type, f"appeal:{appeal.id}", payload, actor=actor)


@dataclass(frozen=True)
class _Target:
    subject: str
    decision: Decision | None
    actions: list[Action]
    account_id: int
    item_id: int | None


def _decision_target(uow: UnitOfWork, decision_id: int) -> _Target:
    decision = uow.session.get(Decision, decision_id)
    if decision is None:
        raise AppealError(f"decision_id: no decision #{decision_id}")
    case = uow.session.get(Case, decision.case_id)
    assert case is not None
    item = uow.session.get(Item, case.item_id)
    assert item is not None
    actions = list(
        uow.session.scalars(
            select(Action).where(Action.decision_id == decision.id).order_by(Action.id)
        )
    )
    return _Target(f"decision:{decision.id}", decision, actions, item.account_id, item.id)


def _target(uow: UnitOfWork, action_id: int | None, decision_id: int | None) -> _Target:
    if (action_id is None) == (decision_id is None):
        raise AppealError("action_id, decision_id: give exactly one")
    if decision_id is not None:
        return _decision_target(uow, decision_id)
    action = uow.session.get(Action, action_id)
    if action is None:
        raise AppealError(f"action_id: no action #{action_id}")
    if action.decision_id is not None:
        return _decision_target(uow, action.decision_id)  # the appeal is against the decision
    group = [action]
    if action.verdict_id is not None:  # everything automation did on the same verdict
        group = list(
            uow.session.scalars(
                select(Action)
                .where(Action.verdict_id == action.verdict_id, Action.decision_id.is_(None))
                .order_by(Action.id)
            )
        )
    return _Target(f"action:{group[0].id}", None, group, action.account_id, action.item_id)


def _told_at(uow: UnitOfWork, target: _Target) -> datetime:
    """When the appellant was told: the statement of reasons, else the action, else the decision."""
    if not target.actions:
        assert target.decision is not None
        return target.decision.decided_at
    rows = uow.session.execute(
        select(StatementOfReasons.action_id, StatementOfReasons.issued_at).where(
            StatementOfReasons.action_id.in_([a.id for a in target.actions])
        )
    )
    issued: dict[int | None, datetime] = {row.action_id: row.issued_at for row in rows}
    return min(issued.get(a.id, a.applied_at) for a in target.actions)


def _check_appellant(uow: UnitOfWork, target: _Target, kind: AppellantKind, appellant: str) -> None:
    if kind is AppellantKind.AFFECTED_USER:
        if not target.actions:
            raise AppealError(
                f"{target.subject}: no action was taken against the user; only a notifier may appeal it"
            )
        account = uow.session.get(Account, target.account_id)
        assert account is not None
        if account.platform_account_id != appellant:
            raise AppealError("appellant: not the account the actions were taken against")
        return
    if target.decision is None or target.decision.outcome != Outcome.NOT_VIOLATING.value:
        raise AppealError(
            f"appellant_kind: a notifier may appeal only a decision not to act ({target.subject})"
        )
    filed = uow.session.scalar(
        select(Notice.id).where(Notice.item_id == target.item_id, Notice.reporter == appellant)
    )
    if filed is None:
        raise AppealError("appellant: filed no notice about this item")


def file(
    uow: UnitOfWork,
    *,
    action_id: int | None = None,
    decision_id: int | None = None,
    appellant: str,
    appellant_kind: str,
    reason: str | None,
    policy: Policy,
) -> Appeal:
    """File an appeal against a decision or an automated action; one appeal per decision/action.

    Refused after ``policy.appeals.window`` from when the appellant was told.
    The reason is kept on the appeal only, never in the event.
    """
    try:
        kind = AppellantKind(appellant_kind)
    except ValueError as exc:
        choices = ", ".join(k.value for k in AppellantKind)
        raise AppealError(f"appellant_kind: {appellant_kind!r} is not one of {choices}") from exc
    who = appellant.strip()
    if not who:
        raise AppealError("appellant: required")
    target = _target(uow, action_id, decision_id)
    _check_appellant(uow, target, kind, who)
    now = uow.now()
    told = _told_at(uow, target)
    closes = told + policy.appeals.window_delta
    if now > closes:
        raise AppealError(
            f"filed_at: the appeal window for {target.subject} closed at {closes:%Y-%m-%d %H:%M %Z}"
        )
    existing = uow.session.scalar(select(Appeal.id).where(Appeal.subject == target.subject))
    if existing is not None:
        raise AppealError(f"{target.subject}: already appealed (appeal #{existing})")
    appeal = Appeal(
        subject=target.subject,
        decision_id=target.decision.id if target.decision is not None else None,
        action_ids=[a.id for a in target.actions],
        account_id=target.account_id,
        item_id=target.item_id,
        appellant_kind=kind.value,
        appellant=who,
        reason=reason,
        filed_at=now,
        told_at=told,
        deadline_at=now + policy.appeals.deadline_delta,
        status=AppealStatus.OPEN.value,
    )
    uow.session.add(appeal)
    uow.session.flush()
    _transition(
        uow,
        appeal,
        "appeal.filed",
        {
            "appeal_id": appeal.id,
            "decision_id": appeal.decision_id,
            "action_ids": list(appeal.action_ids),
            "appellant_kind": kind.value,
        },
        kind.value,
    )
    return appeal


def get(uow: UnitOfWork, appeal_id: int) -> Appeal:
    appeal = uow.session.get(Appeal, appeal_id)
    if appeal is None:
        raise AppealError(f"no appeal #{appeal_id}")
    return appeal


def original_deciders(uow: UnitOfWork, appeal: Appeal) -> set[str]:
    """Who made or confirmed the appealed decision (none for an automated action)."""
    if appeal.decision_id is None:
        return set()
    decision = uow.session.get(Decision, appeal.decision_id)
    assert decision is not None
    return _deciders(decision)


def _refuse_deciders(uow: UnitOfWork, appeal: Appeal, reviewer: str) -> None:
    if any(_same_person(reviewer, d) for d in original_deciders(uow, appeal)):
        raise AppealError(
            f"reviewer: {reviewer} made or confirmed decision #{appeal.decision_id}; "
            "another person must decide the appeal"
        )


def _open(appeal: Appeal) -> None:
    if appeal.status != AppealStatus.OPEN.value:
        raise AppealError(f"appeal #{appeal.id} is already decided ({appeal.status})")


def _free_for(reviewer: str, now: datetime) -> Any:
    """SQL condition: nobody else holds a live claim on the appeal."""
    return or_(
        Appeal.assignee.is_(None), Appeal.assignee == reviewer, Appeal.claim_expires_at <= now
    )


def _held_by_other(appeal: Appeal, reviewer: str, now: datetime) -> AppealError:
    until = appeal.claim_expires_at
    when = f" until {until:%Y-%m-%d %H:%M %Z}" if until else ""
    return AppealError(f"appeal #{appeal.id} is held by {appeal.assignee}{when}, not {reviewer}")


def claim(uow: UnitOfWork, appeal_id: int, reviewer: str, policy: Policy) -> Appeal:
    """Hold the appeal for ``policy.review.claim_for``; atomic, so two reviewers never hold it."""
    who = _person(reviewer)
    appeal = get(uow, appeal_id)
    _open(appeal)
    _refuse_deciders(uow, appeal, who)
    now = uow.now()
    until = now + policy.review.claim_delta
    result = cast(
        CursorResult[Any],
        uow.session.execute(
            update(Appeal)
            .where(
                Appeal.id == appeal.id,
                Appeal.status == AppealStatus.OPEN.value,
                _free_for(who, now),
            )
            .values(assignee=who, claim_expires_at=until)
            .execution_options(synchronize_session=False)
        ),
    )
    uow.session.refresh(appeal)
    if result.rowcount != 1:
        _open(appeal)
        raise _held_by_other(appeal, who, now)
    _transition(uow, appeal, "appeal.claimed", {"assignee": who}, who)
    return appeal


@dataclass(frozen=True)
class AppealDecision:
    appeal: Appeal
    reversed_actions: list[Action]
    removed_strikes: list[Strike]
    # A notifier's appeal was upheld against a decision not to act: the item needs a new review.
    needs_new_review: bool


def _actions_to_reverse(uow: UnitOfWork, appeal: Appeal) -> list[Action]:
    """The appealed actions, plus any taken later under the same decision (e.g. escalation)."""
    conditions: list[ColumnElement[bool]] = [Action.id.in_([int(i) for i in appeal.action_ids])]
    if appeal.decision_id is not None:
        conditions.append(Action.decision_id == appeal.decision_id)
    return list(uow.session.scalars(select(Action).where(or_(*conditions)).order_by(Action.id)))


def decide(
    uow: UnitOfWork,
    appeal_id: int,
    *,
    reviewer: str,
    outcome: AppealOutcome | str,
    reasoning: str,
    policy: Policy,
) -> AppealDecision:
    """Decide an appeal: a person other than the original decider(s), never automation.

    A reversal of an affected user's appeal reverses every action of the decision
    (content and account restored unless another action holds them) and removes
    its strikes. The answer is ``reasoning`` followed by ``policy.appeals.out_of_court``.
    """
    who = _person(reviewer)
    try:
        result_outcome = AppealOutcome(outcome)
    except ValueError as exc:
        raise AppealError(f"outcome: {outcome!r} is not upheld or reversed") from exc
    text = reasoning.strip()
    if not text:
        raise AppealError("reasoning: required; the appellant is told why")
    appeal = get(uow, appeal_id)
    _open(appeal)
    _refuse_deciders(uow, appeal, who)
    now = uow.now()
    result = cast(
        CursorResult[Any],
        uow.session.execute(
            update(Appeal)
            .where(
                Appeal.id == appeal.id,
                Appeal.status == AppealStatus.OPEN.value,
                _free_for(who, now),
            )
            .values(
                assignee=who,
                claim_expires_at=None,
                outcome=result_outcome.value,
                decided_by=who,
                decided_at=now,
                answer=f"{text}\n\n{policy.appeals.out_of_court}",
            )
            .execution_options(synchronize_session=False)
        ),
    )
    uow.session.refresh(appeal)
    if result.rowcount != 1:
        _open(appeal)
        raise _held_by_other(appeal, who, now)
    _transition(
        uow,
        appeal,
        "appeal.decided",
        {
            "appeal_id": appeal.id,
            "outcome": result_outcome.value,
            "decision_id": appeal.decision_id,
        },
        who,
    )
    reversed_actions: list[Action] = []
    removed: list[Strike] = []
    needs_new_review = False
    if result_outcome is AppealOutcome.REVERSED:
        if appeal.appellant_kind == AppellantKind.NOTIFIER.value:
            needs_new_review = True
            if appeal.item_id is not None:
                cases.reopen_on_appeal(
                    uow, item_id=appeal.item_id, appeal_id=appeal.id, policy=policy
                )
        else:
            for action in _actions_to_reverse(uow, appeal):
                if reverse_action(uow, action, appeal_id=appeal.id, actor=who):
                    reversed_actions.append(action)
            removed = strikes.remove_for(
                uow,
                decision_id=appeal.decision_id,
                action_ids=[int(i) for i in appeal.action_ids],
                appeal_id=appeal.id,
                actor=who,
            )
            if appeal.decision_id is not None:
                referrals.on_decision_reversed(
                    uow, appeal.decision_id, appeal_id=appeal.id, actor=who
                )
    return AppealDecision(appeal, reversed_actions, removed, needs_new_review)


def queue(uow: UnitOfWork, *, limit: int = 50) -> list[Appeal]:
    """Open appeals, soonest deadline first."""
    return list(
        uow.session.scalars(
            select(Appeal)
            .where(Appeal.status == AppealStatus.OPEN.value)
            .order_by(Appeal.deadline_at, Appeal.id)
            .limit(limit)
        )
    )


def appeals_for(uow: UnitOfWork, account_id: int) -> Sequence[Appeal]:
    """Every appeal about the account's content or account, newest first."""
    return list(
        uow.session.scalars(
            select(Appeal).where(Appeal.account_id == account_id).order_by(Appeal.filed_at.desc())
        )
    )
