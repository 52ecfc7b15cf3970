"""Every case status transition, every refused one, and who holds a case, from events alone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from vigil.cases.models import CaseStatus
from vigil.cases.reducer import Hold, InvalidTransitionError, apply, case_hold, case_status

OPENED: tuple[str, dict[str, Any]] = ("case.opened", {})
VIOLATING = ("case.decided", {"outcome": "violating", "four_eyes": False})
FOUR_EYES = ("case.decided", {"outcome": "violating", "four_eyes": True})
ESCALATE = ("case.decided", {"outcome": "escalate", "four_eyes": False})
NOT_VIOLATING = ("case.decided", {"outcome": "not_violating", "four_eyes": False})
CONFIRMED = ("case.confirmed", {"decision_id": 1, "outcome": "violating"})
REFUSED = ("case.confirmation_refused", {"decision_id": 1, "reason_code": "wrong_clause"})
QUEUE_EVENTS = ["case.claimed", "case.released", "case.assigned", "case.deadline_missed"]

S = CaseStatus


def test_status_follows_events() -> None:
    assert case_status([]) is None
    assert case_status([OPENED]) is S.OPEN
    assert case_status([OPENED, ("evidence.viewed", {})]) is S.OPEN
    assert case_status([OPENED, ESCALATE]) is S.ESCALATED
    assert case_status([OPENED, ESCALATE, VIOLATING]) is S.CLOSED
    assert case_status([OPENED, NOT_VIOLATING]) is S.CLOSED


@pytest.mark.parametrize(
    ("before", "event", "after"),
    [
        (None, OPENED, S.OPEN),
        (S.OPEN, VIOLATING, S.CLOSED),
        (S.OPEN, NOT_VIOLATING, S.CLOSED),
        (S.OPEN, ESCALATE, S.ESCALATED),
        (S.OPEN, FOUR_EYES, S.AWAITING_CONFIRMATION),
        (S.ESCALATED, VIOLATING, S.CLOSED),
        (S.ESCALATED, NOT_VIOLATING, S.CLOSED),
        (S.ESCALATED, ESCALATE, S.ESCALATED),
        (S.ESCALATED, FOUR_EYES, S.AWAITING_CONFIRMATION),
        (S.AWAITING_CONFIRMATION, CONFIRMED, S.CLOSED),
        (
            S.AWAITING_CONFIRMATION,
            ("case.confirmed", {"decision_id": 1, "outcome": "escalate"}),
            S.ESCALATED,
        ),
        (S.AWAITING_CONFIRMATION, REFUSED, S.OPEN),
        (S.CLOSED, ("evidence.viewed", {}), S.CLOSED),
        (S.CLOSED, ("case.verdict_attached", {}), S.CLOSED),
    ],
)
def test_each_transition(
    before: CaseStatus | None, event: tuple[str, dict[str, Any]], after: CaseStatus
) -> None:
    assert apply(before, *event) is after


@pytest.mark.parametrize("status", [S.OPEN, S.ESCALATED, S.AWAITING_CONFIRMATION])
@pytest.mark.parametrize("event_type", QUEUE_EVENTS)
def test_claims_and_missed_deadlines_leave_the_status_alone(
    status: CaseStatus, event_type: str
) -> None:
    assert apply(status, event_type, {"assignee": "alice"}) is status


@pytest.mark.parametrize(
    ("before", "event", "message"),
    [
        (S.OPEN, OPENED, "opened twice"),
        (None, VIOLATING, "cannot decide"),
        (S.CLOSED, VIOLATING, "cannot decide"),
        (S.CLOSED, FOUR_EYES, "cannot decide"),
        (S.AWAITING_CONFIRMATION, VIOLATING, "cannot decide"),
        (S.AWAITING_CONFIRMATION, FOUR_EYES, "cannot decide"),
        (S.OPEN, ("case.decided", {"outcome": "escalate", "four_eyes": True}), "only a violating"),
        (
            S.OPEN,
            ("case.decided", {"outcome": "not_violating", "four_eyes": True}),
            "only a violating",
        ),
        (None, CONFIRMED, "cannot confirm"),
        (S.OPEN, CONFIRMED, "cannot confirm"),
        (S.ESCALATED, CONFIRMED, "cannot confirm"),
        (S.CLOSED, CONFIRMED, "cannot confirm"),
        (None, REFUSED, "cannot refuse"),
        (S.OPEN, REFUSED, "cannot refuse"),
        (S.ESCALATED, REFUSED, "cannot refuse"),
        (S.CLOSED, REFUSED, "cannot refuse"),
    ],
)
def test_each_refused_transition(
    before: CaseStatus | None, event: tuple[str, dict[str, Any]], message: str
) -> None:
    with pytest.raises(InvalidTransitionError, match=message):
        apply(before, *event)


@pytest.mark.parametrize("status", [None, S.CLOSED])
@pytest.mark.parametrize("event_type", QUEUE_EVENTS)
def test_no_claim_or_missed_deadline_outside_the_queue(
    status: CaseStatus | None, event_type: str
) -> None:
    with pytest.raises(InvalidTransitionError, match=event_type):
        apply(status, event_type, {"assignee": "alice"})


def test_a_confirmed_decision_cannot_be_confirmed_or_refused_again() -> None:
    with pytest.raises(InvalidTransitionError):
        case_status([OPENED, FOUR_EYES, CONFIRMED, CONFIRMED])
    with pytest.raises(InvalidTransitionError):
        case_status([OPENED, FOUR_EYES, REFUSED, REFUSED])
    # Refused: the case is open and can be decided again.
    assert case_status([OPENED, FOUR_EYES, REFUSED, NOT_VIOLATING]) is S.CLOSED


def test_closed_case_cannot_be_decided_again() -> None:
    with pytest.raises(InvalidTransitionError):
        case_status([OPENED, NOT_VIOLATING, VIOLATING])


def test_case_cannot_open_twice() -> None:
    with pytest.raises(InvalidTransitionError):
        case_status([OPENED, OPENED])


def test_hold_follows_claims_assignments_and_decisions() -> None:
    until = "2026-10-01T12:30:00+00:00"
    claimed = ("case.claimed", {"assignee": "alice", "expires_at": until})
    assert case_hold([OPENED]) is None
    assert case_hold([OPENED, claimed]) == Hold("alice", datetime(2026, 10, 1, 12, 30, tzinfo=UTC))
    assigned = ("case.assigned", {"assignee": "bob"})
    assert case_hold([OPENED, claimed, assigned]) == Hold("bob", None)
    released = ("case.released", {"assignee": "bob", "reason": "released"})
    assert case_hold([OPENED, claimed, assigned, released]) is None
    for ending in (VIOLATING, FOUR_EYES, CONFIRMED, REFUSED):
        assert case_hold([OPENED, claimed, ending]) is None
