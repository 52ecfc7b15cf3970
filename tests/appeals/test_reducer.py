"""An appeal's status as a pure function of its events."""

from __future__ import annotations

import pytest

from vigil.appeals.models import AppealStatus
from vigil.appeals.reducer import InvalidTransitionError, appeal_status

FILED = ("appeal.filed", {"appeal_id": 1})
CLAIMED = ("appeal.claimed", {"assignee": "bob"})


def _decided(outcome: str) -> tuple[str, dict[str, object]]:
    return ("appeal.decided", {"appeal_id": 1, "outcome": outcome, "decision_id": 2})


def test_statuses() -> None:
    assert appeal_status([]) is None
    assert appeal_status([FILED]) is AppealStatus.OPEN
    assert appeal_status([FILED, CLAIMED, CLAIMED]) is AppealStatus.OPEN
    assert appeal_status([FILED, CLAIMED, _decided("upheld")]) is AppealStatus.UPHELD
    assert appeal_status([FILED, _decided("reversed")]) is AppealStatus.REVERSED
    assert appeal_status([FILED, ("action.reversed", {})]) is AppealStatus.OPEN


@pytest.mark.parametrize(
    "events",
    [
        [FILED, FILED],
        [CLAIMED],
        [_decided("upheld")],
        [FILED, _decided("upheld"), _decided("reversed")],
        [FILED, _decided("upheld"), CLAIMED],
    ],
)
def test_invalid_sequences(events: list[tuple[str, dict[str, object]]]) -> None:
    with pytest.raises(InvalidTransitionError):
        appeal_status(events)


def test_unknown_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="'maybe' is not a valid AppealOutcome"):
        appeal_status([FILED, _decided("maybe")])
