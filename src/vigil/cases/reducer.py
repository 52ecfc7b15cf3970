"""A case's status, and who holds it, as pure functions of its events (as in Ozone's subjects).

Status: ``case.opened`` -> open; ``case.decided`` -> closed, escalated, or
awaiting_confirmation when the decision needs a second reviewer (four-eyes);
``case.confirmed`` -> closed (escalated for an escalation);
``case.confirmation_refused`` -> open again. Claims, assignments, views,
attached verdicts and missed deadlines leave the status alone, but are refused
on a case that does not exist yet or is closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vigil.cases.models import CaseStatus, Outcome


class InvalidTransitionError(ValueError):
    pass


_UNDECIDED = (CaseStatus.OPEN, CaseStatus.ESCALATED)
_IN_QUEUE = (CaseStatus.OPEN, CaseStatus.ESCALATED, CaseStatus.AWAITING_CONFIRMATION)
# Events about a case in the queue that do not change its status.
_QUEUE_EVENTS = frozenset(
    {"case.claimed", "case.released", "case.assigned", "case.deadline_missed"}
)


def apply(
    status: CaseStatus | None, event_type: str, payload: Mapping[str, Any]
) -> CaseStatus | None:
    """The status after one event; raises on an event the current status does not allow."""
    if event_type == "case.opened":
        if status is not None:
            raise InvalidTransitionError("case opened twice")
        return CaseStatus.OPEN
    if event_type == "case.decided":
        if status not in _UNDECIDED:
            raise InvalidTransitionError(f"cannot decide a case that is {status}")
        outcome = payload.get("outcome")
        if payload.get("four_eyes"):
            if outcome != Outcome.VIOLATING.value:
                raise InvalidTransitionError("only a violating decision waits for confirmation")
            return CaseStatus.AWAITING_CONFIRMATION
        return CaseStatus.ESCALATED if outcome == Outcome.ESCALATE.value else CaseStatus.CLOSED
    if event_type == "case.confirmed":
        if status is not CaseStatus.AWAITING_CONFIRMATION:
            raise InvalidTransitionError(f"cannot confirm a case that is {status}")
        if payload.get("outcome") == Outcome.ESCALATE.value:
            return CaseStatus.ESCALATED
        return CaseStatus.CLOSED
    if event_type == "case.confirmation_refused":
        if status is not CaseStatus.AWAITING_CONFIRMATION:
            raise InvalidTransitionError(f"cannot refuse confirmation of a case that is {status}")
        return CaseStatus.OPEN
    if event_type in _QUEUE_EVENTS and status not in _IN_QUEUE:
        raise InvalidTransitionError(f"{event_type} on a case that is {status}")
    return status  # views, attached verdicts and other events leave the status alone


def case_status(events: Iterable[tuple[str, Mapping[str, Any]]]) -> CaseStatus | None:
    status: CaseStatus | None = None
    for event_type, payload in events:
        status = apply(status, event_type, payload)
    return status


@dataclass(frozen=True)
class Hold:
    """Who holds a case, and until when (``None``: until released or decided)."""

    assignee: str
    expires_at: datetime | None


# A decision, confirmation or refusal ends whatever claim was held.
_ENDS_HOLD = frozenset(
    {"case.released", "case.decided", "case.confirmed", "case.confirmation_refused"}
)


def case_hold(events: Iterable[tuple[str, Mapping[str, Any]]]) -> Hold | None:
    """The latest claim or assignment on a case, whether or not it has lapsed since."""
    hold: Hold | None = None
    for event_type, payload in events:
        if event_type in ("case.claimed", "case.assigned"):
            expires = payload.get("expires_at")
            hold = Hold(
                str(payload["assignee"]),
                datetime.fromisoformat(expires) if isinstance(expires, str) else expires,
            )
        elif event_type in _ENDS_HOLD:
            hold = None
    return hold
