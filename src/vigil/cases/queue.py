"""Review queues by category and severity, their deadlines, and the deadlines they miss.

Queue order: soonest deadline first; among equal deadlines, trusted flaggers'
cases first (priority 0), then the most severe, then the oldest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy import case as sql_case

from vigil.cases.core import IN_QUEUE, UNDECIDED, held_by, transition
from vigil.cases.models import Case, CaseStatus, Decision, DecisionStatus
from vigil.unit_of_work import UnitOfWork

_SEVERITY_ORDER = sql_case(
    {"critical": 0, "high": 1, "medium": 2, "low": 3}, value=Case.severity, else_=4
)


def _held(now: datetime) -> ColumnElement[bool]:
    return and_(
        Case.assignee.is_not(None),
        or_(Case.claim_expires_at.is_(None), Case.claim_expires_at > now),
    )


@dataclass(frozen=True)
class QueueEntry:
    case: Case
    overdue: bool
    held_by: str | None


def queue(
    uow: UnitOfWork,
    *,
    category: str | None = None,
    severity: str | None = None,
    include_escalated: bool = True,
    confirmations: bool = False,
    held_by_reviewer: str | None = None,
    unheld: bool = False,
    exclude_decided_by: str | None = None,
    limit: int = 50,
) -> list[QueueEntry]:
    """Cases awaiting a decision (or, with ``confirmations``, a second reviewer), in queue order.

    ``held_by_reviewer`` keeps the cases that reviewer holds now; ``unheld`` the
    cases nobody holds; ``exclude_decided_by`` drops cases awaiting confirmation
    of that reviewer's own decision.
    """
    now = uow.now()
    if confirmations:
        statuses = [CaseStatus.AWAITING_CONFIRMATION.value]
    else:
        statuses = [CaseStatus.OPEN.value] + (
            [CaseStatus.ESCALATED.value] if include_escalated else []
        )
    stmt = select(Case).where(Case.status.in_(statuses))
    if category:
        stmt = stmt.where(Case.category == category)
    if severity:
        stmt = stmt.where(Case.severity == severity)
    if held_by_reviewer is not None:
        stmt = stmt.where(_held(now), Case.assignee == held_by_reviewer)
    if unheld:
        stmt = stmt.where(~_held(now))
    if exclude_decided_by is not None:
        own = select(Decision.id).where(
            Decision.case_id == Case.id,
            Decision.status == DecisionStatus.AWAITING_CONFIRMATION.value,
            Decision.reviewer == exclude_decided_by,
        )
        stmt = stmt.where(~own.exists())
    stmt = stmt.order_by(
        Case.deadline_at.is_(None),
        Case.deadline_at,
        Case.priority,
        _SEVERITY_ORDER,
        Case.id,
    ).limit(limit)
    return [
        QueueEntry(c, c.deadline_at is not None and c.deadline_at < now, held_by(c, now))
        for c in uow.session.scalars(stmt)
    ]


def note_missed(uow: UnitOfWork, case: Case) -> bool:
    """Record ``case.deadline_missed`` once, if the case is past its deadline and still in the queue.

    A conditional update on ``deadline_missed_at``: two sweeps running at once
    record it once.
    """
    now = uow.now()
    if case.deadline_at is None or case.deadline_at >= now or case.deadline_missed_at is not None:
        return False
    if case.status not in IN_QUEUE:
        return False
    marked = uow.session.execute(
        update(Case)
        .where(Case.id == case.id, Case.deadline_missed_at.is_(None))
        .values(deadline_missed_at=now)
        .execution_options(synchronize_session=False)
    )
    uow.session.refresh(case)
    if marked.rowcount != 1:  # type: ignore[attr-defined]
        return False
    transition(uow, case, "case.deadline_missed", {"deadline_at": case.deadline_at}, "system")
    return True


def sweep_deadlines(uow: UnitOfWork, limit: int = 500) -> int:
    """Mark up to ``limit`` cases past their deadline; returns how many were marked."""
    stmt = (
        select(Case)
        .where(
            Case.status.in_(IN_QUEUE),
            Case.deadline_at.is_not(None),
            Case.deadline_at < uow.now(),
            Case.deadline_missed_at.is_(None),
        )
        .order_by(Case.deadline_at, Case.id)
        .limit(limit)
    )
    return sum(note_missed(uow, case) for case in list(uow.session.scalars(stmt)))


@dataclass(frozen=True)
class QueueStats:
    category: str
    severity: str
    open: int
    held: int
    awaiting_confirmation: int
    overdue: int
    deadlines_missed: int


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(sql_case((condition, 1), else_=0)), 0)


def queue_stats(uow: UnitOfWork) -> list[QueueStats]:
    """Per (category, severity): cases open, held, awaiting confirmation, overdue now, and
    deadlines missed (ever, including cases decided late)."""
    now = uow.now()
    in_queue = Case.status.in_(IN_QUEUE)
    stmt = (
        select(
            Case.category,
            Case.severity,
            _count(Case.status.in_(UNDECIDED)),
            _count(and_(in_queue, _held(now))),
            _count(Case.status == CaseStatus.AWAITING_CONFIRMATION.value),
            _count(and_(in_queue, Case.deadline_at < now)),
            _count(Case.deadline_missed_at.is_not(None)),
        )
        .group_by(Case.category, Case.severity)
        .order_by(Case.category, _SEVERITY_ORDER)
    )
    return [
        QueueStats(cat, sev, *(int(n) for n in counts))
        for cat, sev, *counts in uow.session.execute(stmt)
    ]
