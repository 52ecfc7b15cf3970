"""The Art. 23 standing reducer on its own: thresholds, share, window, warning before limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from vigil.notices.models import NotifierStatus
from vigil.notices.standing import Sanctions, assess, sanctions_of, tally
from vigil.policy.schema import UnfoundedNotices

NOW = datetime(2026, 11, 1, tzinfo=UTC)
RULES = UnfoundedNotices(
    window="30d", min_share=0.5, warn_after=3, limit_after=6, limit_per_day=1, limit_for="30d"
)


def outcomes(
    unfounded: int, founded: int = 0, *, days_ago: float = 1
) -> list[tuple[datetime, bool]]:
    at = NOW - timedelta(days=days_ago)
    return [(at, True)] * unfounded + [(at, False)] * founded


def test_tally_counts_only_the_window() -> None:
    window = timedelta(days=30)
    rows = [
        (NOW - timedelta(days=30), True),  # exactly a window ago: out
        (NOW - timedelta(days=29, hours=23), True),
        (NOW, False),
        (NOW + timedelta(seconds=1), True),  # not yet
    ]
    counts = tally(rows, now=NOW, window=window)
    assert (counts.decided, counts.unfounded, counts.founded) == (2, 1, 1)
    assert counts.share == 0.5
    assert tally([], now=NOW, window=window).share == 0.0


def test_warned_at_warn_after_not_before() -> None:
    below = assess(outcomes(2), Sanctions(), rules=RULES, now=NOW, can_limit=True)
    assert (below.status, below.warn, below.limit) == (NotifierStatus.OK, False, False)
    at = assess(outcomes(3), Sanctions(), rules=RULES, now=NOW, can_limit=True)
    assert (at.status, at.warn, at.limit) == (NotifierStatus.WARNED, True, False)
    assert at.sanctions == Sanctions(warned_at=NOW)
    assert (at.tally.decided, at.tally.unfounded) == (3, 3)


def test_a_low_unfounded_share_is_never_warned() -> None:
    # Ten unfounded but eleven founded: a busy, mostly right notifier.
    result = assess(outcomes(10, 11), Sanctions(), rules=RULES, now=NOW, can_limit=True)
    assert result.status is NotifierStatus.OK
    assert not result.warn
    # At exactly min_share the warning is due.
    even = assess(outcomes(10, 10), Sanctions(), rules=RULES, now=NOW, can_limit=True)
    assert even.warn


def test_unfounded_notices_outside_the_window_do_not_count() -> None:
    result = assess(outcomes(9, days_ago=31), Sanctions(), rules=RULES, now=NOW, can_limit=True)
    assert result.status is NotifierStatus.OK
    assert result.tally.decided == 0


def test_a_limit_needs_a_standing_prior_warning() -> None:
    # Over limit_after with no warning: warned first, not limited.
    first = assess(outcomes(7), Sanctions(), rules=RULES, now=NOW, can_limit=True)
    assert (first.warn, first.limit, first.status) == (True, False, NotifierStatus.WARNED)
    # Warned a day ago: now limited for limit_for, with the daily allowance.
    warned = Sanctions(warned_at=NOW - timedelta(days=1))
    second = assess(outcomes(6), warned, rules=RULES, now=NOW, can_limit=True)
    assert (second.warn, second.limit, second.status) == (False, True, NotifierStatus.LIMITED)
    assert second.sanctions == Sanctions(
        warned_at=warned.warned_at, limited_until=NOW + timedelta(days=30), per_day=1
    )
    # A warning given longer than a window ago no longer stands: warned again instead.
    stale = Sanctions(warned_at=NOW - timedelta(days=31))
    third = assess(outcomes(6), stale, rules=RULES, now=NOW, can_limit=True)
    assert (third.warn, third.limit) == (True, False)


def test_warned_below_limit_after_stays_warned_without_new_events() -> None:
    warned = Sanctions(warned_at=NOW - timedelta(days=1))
    result = assess(outcomes(5), warned, rules=RULES, now=NOW, can_limit=True)
    assert (result.status, result.warn, result.limit) == (NotifierStatus.WARNED, False, False)
    assert result.sanctions == warned


def test_trusted_flaggers_are_warned_but_never_limited() -> None:
    warned = Sanctions(warned_at=NOW - timedelta(days=1))
    result = assess(outcomes(20), warned, rules=RULES, now=NOW, can_limit=False)
    assert (result.status, result.limit) == (NotifierStatus.WARNED, False)
    assert result.tally.unfounded == 20  # still counted, for the coordinator


def test_a_limit_runs_its_course_and_lapses_without_an_event() -> None:
    until = NOW + timedelta(days=5)
    limited = Sanctions(warned_at=NOW - timedelta(days=25), limited_until=until, per_day=1)
    during = assess(outcomes(12), limited, rules=RULES, now=NOW, can_limit=True)
    assert (during.status, during.warn, during.limit) == (NotifierStatus.LIMITED, False, False)
    assert during.sanctions == limited  # not extended
    window = RULES.window_delta
    assert limited.status_at(until - timedelta(seconds=1), window) is NotifierStatus.LIMITED
    # At its end the warning (given 30 days before) has lapsed too.
    assert limited.status_at(until, window) is NotifierStatus.OK
    short = Sanctions(warned_at=NOW, limited_until=NOW + timedelta(days=2), per_day=1)
    assert short.status_at(NOW + timedelta(days=3), window) is NotifierStatus.WARNED


def test_sanctions_fold_from_events() -> None:
    until = NOW + timedelta(days=30)
    events: list[tuple[datetime, str, dict[str, Any]]] = [
        (NOW - timedelta(days=2), "notice.outcome", {"notice_id": 1}),
        (NOW - timedelta(days=1), "notifier.warned", {"notifier": "x", "unfounded": 3}),
        (NOW, "notifier.limited", {"notifier": "x", "until": until.isoformat(), "per_day": 2}),
    ]
    assert sanctions_of(events) == Sanctions(
        warned_at=NOW - timedelta(days=1), limited_until=until, per_day=2
    )
    assert sanctions_of([]) == Sanctions()
