"""An appeal's status as a pure function of its events.

Claims do not change the status: a claim lapses by time (``claim_expires_at``),
so who holds an open appeal is read from the claim columns, not the status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from vigil.appeals.models import AppealOutcome, AppealStatus


class InvalidTransitionError(ValueError):
    pass


def apply(
    status: AppealStatus | None, event_type: str, payload: Mapping[str, Any]
) -> AppealStatus | None:
    """The status after one event; raises on an event the current status does not allow."""
    if event_type == "appeal.filed":
        if status is not None:
            raise InvalidTransitionError("appeal filed twice")
        return AppealStatus.OPEN
    if event_type == "appeal.claimed":
        if status is not AppealStatus.OPEN:
            raise InvalidTransitionError(f"cannot claim an appeal that is {status}")
        return status
    if event_type == "appeal.decided":
        if status is not AppealStatus.OPEN:
            raise InvalidTransitionError(f"cannot decide an appeal that is {status}")
        outcome = AppealOutcome(payload["outcome"])
        return AppealStatus.REVERSED if outcome is AppealOutcome.REVERSED else AppealStatus.UPHELD
    return status


def appeal_status(events: Iterable[tuple[str, Mapping[str, Any]]]) -> AppealStatus | None:
    status: AppealStatus | None = None
    for event_type, payload in events:
        status = apply(status, event_type, payload)
    return status
