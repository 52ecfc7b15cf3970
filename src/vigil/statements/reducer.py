"""A statement's submission state as a pure function of its events.

``statement.issued`` makes it pending; ``statement.submitted`` (the transparency
database holds it, with its uuid) and ``statement.rejected`` (the database refused
these fields) end it. A submitted statement stays submitted: the database never
forgets a PUID, so a later event cannot undo the submission.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PENDING = "pending"
SUBMITTED = "submitted"
REJECTED = "rejected"
STATUSES = (PENDING, SUBMITTED, REJECTED)


class InvalidTransitionError(ValueError):
    pass


@dataclass(frozen=True)
class SubmissionState:
    status: str
    uuid: str | None = None
    rejected_fields: tuple[str, ...] | None = None


def apply(
    state: SubmissionState | None, event_type: str, payload: Mapping[str, Any]
) -> SubmissionState | None:
    """The state after one event; raises on an event the current state does not allow."""
    if event_type == "statement.issued":
        if state is not None:
            raise InvalidTransitionError("statement issued twice")
        return SubmissionState(PENDING)
    if event_type == "statement.submitted":
        if state is None or state.status == SUBMITTED:
            raise InvalidTransitionError(f"cannot submit a statement that is {state}")
        return SubmissionState(SUBMITTED, uuid=payload.get("uuid"))
    if event_type == "statement.rejected":
        if state is None or state.status != PENDING:
            raise InvalidTransitionError(f"cannot reject a statement that is {state}")
        return SubmissionState(REJECTED, rejected_fields=tuple(payload.get("fields") or ()))
    return state


def submission_state(events: Iterable[tuple[str, Mapping[str, Any]]]) -> SubmissionState | None:
    state: SubmissionState | None = None
    for event_type, payload in events:
        state = apply(state, event_type, payload)
    return state
