"""A case's status as a pure function of its events (as in Ozone's moderation subjects)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from vigil.cases.models import CaseStatus, Outcome


class InvalidTransitionError(ValueError):
    pass


def apply(
    status: CaseStatus | None, event_type: str, payload: Mapping[str, Any]
) -> CaseStatus | None:
    """The status after one event; raises on an event the current status does not allow."""
    if event_type == "case.opened":
        if status is not None:
            raise InvalidTransitionError("case opened twice")
        return CaseStatus.OPEN
    if event_type == "case.decided":
        if status not in (CaseStatus.OPEN, CaseStatus.ESCALATED):
            raise InvalidTransitionError(f"cannot decide a case that is {status}")
        if payload.get("outcome") == Outcome.ESCALATE.value:
            return CaseStatus.ESCALATED
        return CaseStatus.CLOSED
    return status  # views, attached verdicts and other events leave the status alone


def case_status(events: Iterable[tuple[str, Mapping[str, Any]]]) -> CaseStatus | None:
    status: CaseStatus | None = None
    for event_type, payload in events:
        status = apply(status, event_type, payload)
    return status
