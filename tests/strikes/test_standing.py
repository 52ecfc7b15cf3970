"""Standing as pure functions: active weight, escalation steps crossed, and decaying concern."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vigil.policy.schema import ActionKind, Enforcement, Escalation, OfConcern
from vigil.strikes.standing import (
    StrikeFact,
    VerdictFact,
    active_weight,
    decayed,
    escalation_steps,
    of_concern,
)

NOW = datetime(2026, 10, 1, tzinfo=UTC)
DAY = timedelta(days=1)
WARN, RESTRICT, SUSPEND, CLOSE = (
    ActionKind.WARN_ACCOUNT,
    ActionKind.RESTRICT_ACCOUNT,
    ActionKind.SUSPEND_ACCOUNT,
    ActionKind.CLOSE_ACCOUNT,
)


def _strike(
    weight: int, *, age_days: float, lasts_days: float, removed: bool = False, sid: int = 1
) -> StrikeFact:
    issued = NOW - age_days * DAY
    return StrikeFact(
        strike_id=sid,
        category="hate",
        weight=weight,
        issued_at=issued,
        expires_at=issued + lasts_days * DAY,
        removed_at=NOW - DAY if removed else None,
    )


def test_active_weight_counts_only_unexpired_unremoved_issued_strikes() -> None:
    strikes = [
        _strike(2, age_days=10, lasts_days=180),
        _strike(1, age_days=100, lasts_days=90),  # expired 10 days ago
        _strike(5, age_days=5, lasts_days=365, removed=True),  # removed on appeal
        _strike(3, age_days=-1, lasts_days=30),  # issued tomorrow
        _strike(4, age_days=30, lasts_days=30),  # expires exactly now
    ]
    assert active_weight(strikes, NOW) == 2
    assert active_weight(strikes, NOW - 11 * DAY) == 1 + 4  # before the first, the others held
    assert active_weight(strikes, NOW + 2 * DAY) == 2 + 3


@pytest.mark.parametrize(
    ("before", "after", "steps"),
    [
        (0, 1, [WARN]),
        (0, 5, [WARN, RESTRICT, SUSPEND]),  # one heavy strike crosses three steps
        (2, 8, [RESTRICT, SUSPEND, CLOSE]),
        (3, 4, []),  # already past 3, not yet at 5
        (0, 0, []),
        (8, 20, []),  # beyond the last step
        (4, 5, [SUSPEND]),  # reaching `at` exactly crosses it
        (5, 3, []),  # weight falling never escalates
    ],
)
def test_escalation_steps_crossed(before: int, after: int, steps: list[ActionKind]) -> None:
    assert escalation_steps(Enforcement(), before, after) == steps


def test_escalation_follows_the_policy_steps() -> None:
    two_steps = Enforcement(
        escalation=[Escalation(at=2, action=RESTRICT), Escalation(at=4, action=CLOSE)]
    )
    assert escalation_steps(two_steps, 0, 1) == []
    assert escalation_steps(two_steps, 1, 4) == [RESTRICT, CLOSE]


def test_decay_halves_every_half_life() -> None:
    half = timedelta(days=90)
    assert decayed(4, timedelta(0), half) == 4
    assert decayed(4, half, half) == pytest.approx(2)
    assert decayed(4, 2 * half, half) == pytest.approx(1)
    assert decayed(4, -half, half) == 4  # a record from the future is not boosted


def test_of_concern_decays_below_the_threshold() -> None:
    config = OfConcern(threshold=3, half_life="90d", verdict_weight=0.5)
    strikes = [_strike(5, age_days=0, lasts_days=365)]
    verdicts = [VerdictFact(verdict_id=7, category="spam", at=NOW)]
    fresh = of_concern(strikes, verdicts, NOW, config)
    assert fresh.score == pytest.approx(5.5)
    assert fresh.of_concern
    assert [(r.kind, r.ref_id, r.category) for r in fresh.reasons] == [
        ("strike", 1, "hate"),
        ("verdict", 7, "spam"),
    ]
    assert [r.weight_now for r in fresh.reasons] == pytest.approx([5, 0.5])
    later = of_concern(strikes, verdicts, NOW + 90 * DAY, config)
    assert later.score == pytest.approx(2.75)
    assert not later.of_concern
    assert later.reasons[0].weight_now == pytest.approx(2.5)
    assert later.reasons[0].when == NOW


def test_of_concern_ignores_expired_and_removed_strikes_and_future_records() -> None:
    config = OfConcern(threshold=1)
    strikes = [
        _strike(5, age_days=100, lasts_days=90),
        _strike(5, age_days=1, lasts_days=90, removed=True),
    ]
    verdicts = [VerdictFact(verdict_id=1, category="spam", at=NOW + DAY)]
    concern = of_concern(strikes, verdicts, NOW, config)
    assert concern.score == 0
    assert concern.reasons == ()
    assert not concern.of_concern
