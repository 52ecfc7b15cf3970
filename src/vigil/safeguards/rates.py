"""The match-rate rule as pure arithmetic, so it can be tested without a database.

A rate is matches per item scanned. Time is cut into fixed buckets
(``RATE_BUCKET``); the window is the current bucket and the ones just before
it, the baseline the buckets before the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from vigil.policy.schema import RATE_BUCKET, MatchRate

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def bucket_of(moment: datetime) -> datetime:
    """The start of the bucket holding ``moment``."""
    return moment - (moment - _EPOCH) % RATE_BUCKET


def window_start(now: datetime, cfg: MatchRate) -> datetime:
    """First bucket of the window: the current one and those before it, ``window`` in all."""
    return bucket_of(now) + RATE_BUCKET - cfg.window_delta


def baseline_start(now: datetime, cfg: MatchRate) -> datetime:
    return window_start(now, cfg) - cfg.baseline_delta


@dataclass(frozen=True)
class Counts:
    matches: int
    items: int

    @property
    def rate(self) -> float:
        return self.matches / self.items if self.items else 0.0


@dataclass(frozen=True)
class RateCheck:
    window: Counts
    baseline: Counts
    baseline_rate: float
    tripped: bool


def baseline_rate(cfg: MatchRate, history: Counts, accepted: float | None = None) -> float:
    """The rate an entry usually has.

    Its history before the window, blended with ``prior_rate`` as if the prior
    had been seen on ``prior_items`` items: with little history the prior
    decides, with a long one the history does. Never below ``prior_rate``, nor
    below a rate a person ``accepted`` when releasing the entry.
    """
    weight = history.items + cfg.prior_items
    blended = (
        (history.matches + cfg.prior_rate * cfg.prior_items) / weight if weight else cfg.prior_rate
    )
    return max(blended, cfg.prior_rate, accepted or 0.0)


def check(
    cfg: MatchRate, window: Counts, history: Counts, accepted: float | None = None
) -> RateCheck:
    """Trip when the window holds enough matches and its rate is ``factor`` times the usual."""
    usual = baseline_rate(cfg, history, accepted)
    tripped = (
        window.matches >= cfg.min_matches and window.items > 0 and window.rate > cfg.factor * usual
    )
    return RateCheck(window, history, usual, tripped)


def percent(rate: float) -> str:
    """A rate for people: ``12.5%``, ``0.0021%``."""
    return f"{rate * 100:.2g}%" if rate < 0.01 else f"{rate * 100:.3g}%"
