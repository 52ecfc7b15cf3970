"""A referral's status as a pure function of its events.

``referral.proposed`` -> ``referral.approved`` (a legal officer) ->
``referral.submitted`` (the authority holds it). ``referral.failed`` records an
attempt that did not get through; the referral may be sent again. A submitted
referral stays submitted. ``referral.withdrawn``: the decision was reversed on
appeal before the referral was sent, so it never will be.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from vigil.referrals.models import ReferralStatus

S = ReferralStatus


class InvalidTransitionError(ValueError):
    pass


_ALLOWED: dict[str, tuple[tuple[S | None, ...], S]] = {
    "referral.proposed": ((None,), S.PROPOSED),
    "referral.approved": ((S.PROPOSED,), S.APPROVED),
    "referral.submitted": ((S.APPROVED, S.FAILED), S.SUBMITTED),
    "referral.failed": ((S.APPROVED, S.FAILED), S.FAILED),
    "referral.withdrawn": ((S.PROPOSED, S.APPROVED, S.FAILED), S.WITHDRAWN),
}


def apply(state: S | None, event_type: str, payload: Mapping[str, Any]) -> S | None:
    """The status after one event; events of other types leave it alone."""
    rule = _ALLOWED.get(event_type)
    if rule is None:
        return state
    sources, target = rule
    if state not in sources:
        shown = state.value if state else "nothing"
        raise InvalidTransitionError(f"{event_type} is not allowed after {shown}")
    return target


def referral_status(events: Iterable[tuple[str, Mapping[str, Any]]]) -> S | None:
    state: S | None = None
    for event_type, payload in events:
        state = apply(state, event_type, payload)
    return state
