"""Claiming and assigning cases, so that two reviewers never hold the same one.

A claim is one conditional UPDATE: it matches only while the case is in the
queue and held by nobody else (no holder, or the holder's claim has lapsed after
``policy.review.claim_for``), and only if the holder is still the one read just
before. Its row count says who won: on PostgreSQL the second writer waits for the
first's row lock and then re-checks the condition against the committed row.
An assignment by a lead replaces any holder and does not lapse.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update

from vigil.cases.core import IN_QUEUE, CaseError, get_case, held_by, person, reload, transition
from vigil.cases.models import Case, CaseStatus, Decision, DecisionStatus
from vigil.cases.queue import queue
from vigil.policy.schema import Policy
from vigil.unit_of_work import UnitOfWork


def _same_holder(assignee: str | None) -> ColumnElement[bool]:
    return Case.assignee.is_(None) if assignee is None else Case.assignee == assignee


def _free_for(reviewer: str, now: datetime) -> ColumnElement[bool]:
    return or_(
        Case.assignee.is_(None),
        Case.assignee == reviewer,
        and_(Case.claim_expires_at.is_not(None), Case.claim_expires_at <= now),
    )


def _set_hold(
    uow: UnitOfWork,
    case: Case,
    conditions: Sequence[ColumnElement[bool]],
    values: dict[str, Any],
) -> bool:
    result = uow.session.execute(
        update(Case)
        .where(Case.id == case.id, Case.status.in_(IN_QUEUE), *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    reload(uow, case)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _pending_reviewer(uow: UnitOfWork, case: Case) -> str | None:
    """The reviewer whose decision on this case awaits confirmation, if any."""
    return uow.session.scalar(
        select(Decision.reviewer).where(
            Decision.case_id == case.id,
            Decision.status == DecisionStatus.AWAITING_CONFIRMATION.value,
        )
    )


def _not_own_decision(uow: UnitOfWork, case: Case, name: str) -> None:
    """The reviewer who made a four-eyes decision never holds it for its confirmation."""
    if (
        case.status == CaseStatus.AWAITING_CONFIRMATION.value
        and _pending_reviewer(uow, case) == name
    ):
        raise CaseError(
            f"case #{case.id} awaits a second reviewer: {name} decided it and "
            "cannot also confirm it"
        )


def _refusal(uow: UnitOfWork, case: Case, reviewer: str) -> CaseError:
    if case.status == CaseStatus.CLOSED.value:
        return CaseError(f"case #{case.id} is already closed")
    holder = held_by(case, uow.now())
    if holder is not None and holder != reviewer:
        until = f" until {case.claim_expires_at:%Y-%m-%d %H:%M %Z}" if case.claim_expires_at else ""
        return CaseError(f"case #{case.id} is held by {holder}{until}")
    return CaseError(f"case #{case.id} changed while you were claiming it; try again")


def take(uow: UnitOfWork, case: Case, reviewer: str, policy: Policy) -> bool:
    """Hold ``case`` for ``reviewer`` or raise; True when this made a new claim (and logged it).

    A reviewer who already holds the case keeps it unchanged: the update still
    runs, so a claim taken over in the meantime is noticed here.
    """
    now = uow.now()
    _not_own_decision(uow, case, reviewer)
    previous = case.assignee
    if held_by(case, now) == reviewer:
        if not _set_hold(uow, case, [_same_holder(reviewer)], {"assignee": reviewer}):
            raise _refusal(uow, case, reviewer)
        return False
    expires = now + policy.review.claim_delta
    won = _set_hold(
        uow,
        case,
        [_same_holder(previous), _free_for(reviewer, now)],
        {"assignee": reviewer, "claimed_at": now, "claim_expires_at": expires},
    )
    if not won:
        raise _refusal(uow, case, reviewer)
    if previous is not None and previous != reviewer:
        transition(
            uow, case, "case.released", {"assignee": previous, "reason": "expired"}, "system"
        )
    transition(uow, case, "case.claimed", {"assignee": reviewer, "expires_at": expires}, reviewer)
    return True


def settle(uow: UnitOfWork, case: Case, reviewer: str) -> None:
    """Check atomically that nobody else holds ``case`` and end any hold on it.

    For a confirmation or refusal: the answer ends the hold, so there is no claim to record.
    """
    if not _set_hold(
        uow,
        case,
        [_same_holder(case.assignee), _free_for(reviewer, uow.now())],
        {"assignee": None, "claimed_at": None, "claim_expires_at": None},
    ):
        raise _refusal(uow, case, reviewer)


def claim(uow: UnitOfWork, case_id: int, reviewer: str, policy: Policy) -> Case:
    """Hold a case for ``policy.review.claim_for``; claiming it again renews the claim."""
    reviewer = person(reviewer)
    case = get_case(uow, case_id)
    if case.status not in IN_QUEUE:
        raise CaseError(f"case #{case_id} is already closed")
    now = uow.now()
    if held_by(case, now) == reviewer:
        if case.claim_expires_at is None:
            return case  # assigned to them: held until released or decided
        # A renewal: the same conditional update, recorded as a fresh claim.
        expires = now + policy.review.claim_delta
        if not _set_hold(
            uow,
            case,
            [_same_holder(reviewer)],
            {"claimed_at": now, "claim_expires_at": expires},
        ):
            raise _refusal(uow, case, reviewer)
        transition(
            uow, case, "case.claimed", {"assignee": reviewer, "expires_at": expires}, reviewer
        )
        return case
    take(uow, case, reviewer, policy)
    return case


def claim_next(
    uow: UnitOfWork,
    reviewer: str,
    policy: Policy,
    category: str | None = None,
    severity: str | None = None,
    *,
    confirmations: bool = False,
) -> Case | None:
    """Claim the first case in queue order that nobody holds; ``None`` when there is none.

    With ``confirmations``, the first case awaiting a second reviewer that this
    reviewer did not decide. A case lost to a faster reviewer is skipped.
    """
    reviewer = person(reviewer)
    tried: set[int] = set()
    while True:
        entries = queue(
            uow,
            category=category,
            severity=severity,
            confirmations=confirmations,
            unheld=True,
            exclude_decided_by=reviewer if confirmations else None,
            limit=25 + len(tried),
        )
        fresh = [e.case for e in entries if e.case.id not in tried]
        if not fresh:
            return None
        for case in fresh:
            tried.add(case.id)
            try:
                take(uow, case, reviewer, policy)
            except CaseError:
                continue
            return case


def release(uow: UnitOfWork, case_id: int, reviewer: str, reason: str = "released") -> Case:
    """Give a held case back to the queue; only its holder can."""
    reviewer = person(reviewer)
    case = get_case(uow, case_id)
    if case.assignee != reviewer:
        raise CaseError(f"case #{case_id} is not held by {reviewer}")
    if not _set_hold(
        uow,
        case,
        [_same_holder(reviewer)],
        {"assignee": None, "claimed_at": None, "claim_expires_at": None},
    ):
        raise CaseError(f"case #{case_id} is not held by {reviewer}")
    transition(uow, case, "case.released", {"assignee": reviewer, "reason": reason}, reviewer)
    return case


def assign(uow: UnitOfWork, case_id: int, assignee: str, by: str) -> Case:
    """A lead gives a case to a reviewer: it replaces any claim and holds until released or decided."""
    assignee = person(assignee, "assignee")
    by = person(by, "assigned by")
    case = get_case(uow, case_id)
    if case.status not in IN_QUEUE:
        raise CaseError(f"case #{case_id} is already closed")
    _not_own_decision(uow, case, assignee)
    previous = case.assignee
    if not _set_hold(
        uow,
        case,
        [_same_holder(previous)],
        {"assignee": assignee, "claimed_at": uow.now(), "claim_expires_at": None},
    ):
        raise CaseError(f"case #{case_id} changed while you were assigning it; try again")
    if previous is not None and previous != assignee:
        transition(uow, case, "case.released", {"assignee": previous, "reason": "reassigned"}, by)
    transition(uow, case, "case.assigned", {"assignee": assignee}, by)
    return case
