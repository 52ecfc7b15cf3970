from __future__ import annotations

import pytest

from vigil.cases.models import CaseStatus
from vigil.cases.reducer import InvalidTransitionError, case_status


def test_status_follows_events() -> None:
    assert case_status([]) is None
    assert case_status([("case.opened", {})]) is CaseStatus.OPEN
    assert case_status([("case.opened", {}), ("evidence.viewed", {})]) is CaseStatus.OPEN
    escalated = [("case.opened", {}), ("case.decided", {"outcome": "escalate"})]
    assert case_status(escalated) is CaseStatus.ESCALATED
    closed = [*escalated, ("case.decided", {"outcome": "violating"})]
    assert case_status(closed) is CaseStatus.CLOSED


def test_closed_case_cannot_be_decided_again() -> None:
    with pytest.raises(InvalidTransitionError):
        case_status(
            [
                ("case.opened", {}),
                ("case.decided", {"outcome": "not_violating"}),
                ("case.decided", {"outcome": "violating"}),
            ]
        )


def test_case_cannot_open_twice() -> None:
    with pytest.raises(InvalidTransitionError):
        case_status([("case.opened", {}), ("case.opened", {})])
