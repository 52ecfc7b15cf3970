"""The match-rate rule as arithmetic: buckets, the blended baseline, and when it trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vigil.policy.schema import MatchRate
from vigil.safeguards.rates import (
    Counts,
    baseline_rate,
    baseline_start,
    bucket_of,
    check,
    percent,
    window_start,
)

CFG = MatchRate(factor=10, min_matches=20, prior_rate=0.0001, prior_items=10_000)


def test_buckets_are_five_minutes_and_the_window_ends_with_the_current_one() -> None:
    now = datetime(2026, 12, 1, 10, 7, 31, tzinfo=UTC)
    assert bucket_of(now) == datetime(2026, 12, 1, 10, 5, tzinfo=UTC)
    assert bucket_of(datetime(2026, 12, 1, 10, 5, tzinfo=UTC)) == now.replace(minute=5, second=0)
    # A 1h window: the current bucket (10:05) and the eleven before it.
    assert window_start(now, CFG) == datetime(2026, 12, 1, 9, 10, tzinfo=UTC)
    assert baseline_start(now, CFG) == window_start(now, CFG) - timedelta(days=7)


def test_a_new_entry_is_judged_by_the_prior() -> None:
    assert baseline_rate(CFG, Counts(0, 0)) == pytest.approx(0.0001)
    # 20 matches in 10,000 items is 0.2%: over 10 x 0.01%.
    assert check(CFG, Counts(20, 10_000), Counts(0, 0)).tripped
    # 0.1% is exactly 10 x the prior: not more, so not tripped.
    assert not check(CFG, Counts(20, 20_000), Counts(0, 0)).tripped


def test_a_long_steady_history_outweighs_the_prior() -> None:
    history = Counts(50_000, 1_000_000)  # 5% for a week
    usual = baseline_rate(CFG, history)
    assert usual == pytest.approx((50_000 + 1) / 1_010_000)
    assert not check(CFG, Counts(3_000, 50_000), history).tripped  # 6%: a normal hour
    assert check(CFG, Counts(30_000, 50_000), history).tripped  # 60%: more than 10 x 5%


def test_short_history_is_blended_with_the_prior() -> None:
    # 5 matches in 100 items alone would say 5%; worth little against 10,000 prior items.
    assert baseline_rate(CFG, Counts(5, 100)) == pytest.approx((5 + 1) / 10_100)


def test_the_baseline_never_falls_below_the_prior_or_an_accepted_rate() -> None:
    # A week without a single match does not make any match a burst.
    assert baseline_rate(CFG, Counts(0, 10_000_000)) == pytest.approx(0.0001)
    assert baseline_rate(CFG, Counts(0, 0), accepted=0.02) == 0.02
    assert not check(CFG, Counts(100, 1_000), Counts(0, 0), accepted=0.02).tripped  # 10%
    assert check(CFG, Counts(300, 1_000), Counts(0, 0), accepted=0.02).tripped  # 30%


def test_too_few_matches_never_trip() -> None:
    assert not check(CFG, Counts(19, 19), Counts(0, 0)).tripped
    assert check(CFG, Counts(20, 20), Counts(0, 0)).tripped


def test_without_prior_items_the_history_alone_decides_above_the_prior() -> None:
    cfg = MatchRate(prior_rate=0.0001, prior_items=0)
    assert baseline_rate(cfg, Counts(5, 100)) == 0.05
    assert baseline_rate(cfg, Counts(0, 0)) == 0.0001


def test_rates_read_as_percentages() -> None:
    assert (percent(0.25), percent(0.125), percent(0.00001)) == ("25%", "12.5%", "0.001%")
