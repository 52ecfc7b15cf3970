"""Submission state as a pure function of a statement's events."""

from __future__ import annotations

import pytest

from vigil.statements.reducer import (
    InvalidTransitionError,
    SubmissionState,
    submission_state,
)

ISSUED = ("statement.issued", {"puid": "p"})
SUBMITTED = ("statement.submitted", {"puid": "p", "uuid": "u-1"})
REJECTED = ("statement.rejected", {"puid": "p", "fields": ["category"]})


def test_the_life_of_a_statement() -> None:
    assert submission_state([]) is None
    assert submission_state([ISSUED]) == SubmissionState("pending")
    assert submission_state([ISSUED, SUBMITTED]) == SubmissionState("submitted", uuid="u-1")
    assert submission_state([ISSUED, REJECTED]) == SubmissionState(
        "rejected", rejected_fields=("category",)
    )
    # Events of other kinds on the same subject change nothing.
    state = submission_state([ISSUED, ("action.reversed", {}), SUBMITTED])
    assert state == SubmissionState("submitted", uuid="u-1")


@pytest.mark.parametrize(
    "events",
    [
        [SUBMITTED],
        [REJECTED],
        [ISSUED, ISSUED],
        [ISSUED, SUBMITTED, SUBMITTED],
        [ISSUED, SUBMITTED, REJECTED],
        [ISSUED, REJECTED, REJECTED],
    ],
)
def test_impossible_histories_are_refused(events: list[tuple[str, dict[str, object]]]) -> None:
    with pytest.raises(InvalidTransitionError):
        submission_state(events)
