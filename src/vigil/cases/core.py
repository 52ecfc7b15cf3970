"""What every case service shares: finding a case and moving it through the reducer.

Each status change is a compare-and-set on ``cases.status``: when two people act
on the same case at once, the second finds the status changed and is refused,
on PostgreSQL (row lock, then the condition is re-checked) as on SQLite.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from vigil.cases import reducer
from vigil.cases.models import Case, CaseStatus
from vigil.unit_of_work import UnitOfWork

IN_QUEUE = (
    CaseStatus.OPEN.value,
    CaseStatus.ESCALATED.value,
    CaseStatus.AWAITING_CONFIRMATION.value,
)
UNDECIDED = (CaseStatus.OPEN.value, CaseStatus.ESCALATED.value)


class CaseError(ValueError):
    pass


def get_case(uow: UnitOfWork, case_id: int) -> Case:
    case = uow.session.get(Case, case_id)
    if case is None:
        raise CaseError(f"no case #{case_id}")
    return case


def reload(uow: UnitOfWork, case: Case) -> Case:
    """The case as the database has it now (after a conditional update that did not match)."""
    uow.session.refresh(case)
    return case


def held_by(case: Case, now: datetime) -> str | None:
    """Who holds the case now; a lapsed claim holds nothing."""
    if case.assignee is None:
        return None
    if case.claim_expires_at is not None and case.claim_expires_at <= now:
        return None
    return case.assignee


def person(name: str, what: str = "reviewer") -> str:
    name = name.strip()
    if not name:
        raise CaseError(f"{what}: a name is required")
    return name


def transition(
    uow: UnitOfWork, case: Case, event_type: str, payload: dict[str, Any], actor: str
) -> CaseStatus:
    """Apply one event to the case's status through the reducer and record it."""
    current = CaseStatus(case.status)
    try:
        new = reducer.apply(current, event_type, payload)
    except reducer.InvalidTransitionError as exc:
        raise CaseError(f"case #{case.id}: {exc}") from exc
    assert new is not None
    if new is not current:
        values: dict[str, Any] = {"status": new.value}
        if new is CaseStatus.CLOSED:
            values["closed_at"] = uow.now()
        changed = uow.session.execute(
            update(Case)
            .where(Case.id == case.id, Case.status == current.value)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise CaseError(
                f"case #{case.id} changed while you were working on it; look at it again"
            )
        for name, value in values.items():
            set_committed_value(case, name, value)
    uow.log.record(event_type, f"case:{case.id}", payload, actor=actor)
    return new


def end_hold(case: Case) -> None:
    """A decision, confirmation or refusal ends the claim (the reducer's ``case_hold`` agrees)."""
    case.assignee = None
    case.claimed_at = None
    case.claim_expires_at = None
