"""A request's status as a pure function of its events.

``received`` -> received; ``acknowledged`` -> acknowledged; ``verified`` ->
verified; ``approved`` -> approved, or awaiting_second_approval while an emergency
disclosure has one approver of two; ``produced`` only from approved (so an
unverified request can never produce); ``effect_given`` from acknowledged,
verified or approved; ``refused`` from any open status. Notices to the user and
extended preservation, and changes to a non-disclosure term, leave the status alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from vigil.authorities.models import RequestStatus

S = RequestStatus

EVENT_PREFIX = "authority_request."
OPEN = (S.RECEIVED, S.ACKNOWLEDGED, S.VERIFIED, S.AWAITING_SECOND_APPROVAL, S.APPROVED)
_QUIET = {
    "authority_request.user_notified": (S.PRODUCED,),
    "authority_request.preservation_extended": (S.EFFECT_GIVEN,),
}


class InvalidTransitionError(ValueError):
    pass


def apply(status: S | None, event_type: str, payload: Mapping[str, Any]) -> S:
    """The status after one event; raises on an event the current status does not allow."""
    step = event_type.removeprefix(EVENT_PREFIX)

    def need(*allowed: S | None) -> None:
        if status not in allowed:
            raise InvalidTransitionError(f"cannot record {step} on a request that is {status}")

    if step == "received":
        need(None)
        return S.RECEIVED
    if step == "acknowledged":
        need(S.RECEIVED)
        return S.ACKNOWLEDGED
    if step == "verified":
        need(S.ACKNOWLEDGED)
        return S.VERIFIED
    if step == "approved":
        need(S.VERIFIED, S.AWAITING_SECOND_APPROVAL)
        return S.APPROVED if payload.get("complete", True) else S.AWAITING_SECOND_APPROVAL
    if step == "produced":
        need(S.APPROVED)
        return S.PRODUCED
    if step == "effect_given":
        need(S.ACKNOWLEDGED, S.VERIFIED, S.APPROVED)
        return S.EFFECT_GIVEN
    if step == "refused":
        need(*OPEN)
        return S.REFUSED
    if step == "nondisclosure_changed":
        if status is None:
            raise InvalidTransitionError("cannot change the terms of a request not received")
        return status
    if event_type in _QUIET:
        need(*_QUIET[event_type])
        assert status is not None
        return status
    raise InvalidTransitionError(f"unknown request event {event_type!r}")


def request_status(events: Iterable[tuple[str, Mapping[str, Any]]]) -> S | None:
    """Fold a request's events, oldest first."""
    status: S | None = None
    for event_type, payload in events:
        status = apply(status, event_type, payload)
    return status
