"""A notifier's standing (DSA Art. 23) as pure functions: no database, no clock.

Two parts. :func:`sanctions_of` folds a notifier's own events
(``notifier.warned``, ``notifier.limited``) into the sanctions in force, and
:meth:`Sanctions.status_at` reads the status from them at any time: a warning
stands for one policy window, a limit until its ``until``; either ends by
itself, without an event. :func:`assess` looks at the notifier's decided
notices within the window and says whether a new warning or limit is due:

- unfounded means the decision took no action (``no_action``);
- a warning once ``warn_after`` notices in the window were unfounded and they
  are at least ``min_share`` of the decided ones;
- a limit once ``limit_after`` were, at that share, and only while a warning
  given earlier still stands (Art. 23(1): "after having issued a prior
  warning"); it lasts ``limit_for`` and allows ``limit_per_day`` notices a day;
- trusted flaggers may be warned (and reported to their coordinator) but are
  never limited automatically: Art. 22 has its own procedure;
- a limit in force is not extended or stacked; the next one needs a new
  warning once the old one has lapsed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from vigil.notices.models import NotifierStatus
from vigil.policy.schema import UnfoundedNotices

WARNED = "notifier.warned"
LIMITED = "notifier.limited"


@dataclass(frozen=True)
class Sanctions:
    """The latest warning and limit given to a notifier."""

    warned_at: datetime | None = None
    limited_until: datetime | None = None
    per_day: int | None = None

    def limited_at(self, now: datetime) -> bool:
        return self.limited_until is not None and now < self.limited_until

    def status_at(self, now: datetime, window: timedelta) -> NotifierStatus:
        if self.limited_at(now):
            return NotifierStatus.LIMITED
        if self.warned_at is not None and now - self.warned_at < window:
            return NotifierStatus.WARNED
        return NotifierStatus.OK


def apply(
    sanctions: Sanctions, ts: datetime, event_type: str, payload: Mapping[str, Any]
) -> Sanctions:
    """The sanctions after one event; other events leave them alone."""
    if event_type == WARNED:
        return replace(sanctions, warned_at=ts)
    if event_type == LIMITED:
        return replace(
            sanctions,
            limited_until=datetime.fromisoformat(str(payload["until"])),
            per_day=int(payload["per_day"]),
        )
    return sanctions


def sanctions_of(events: Iterable[tuple[datetime, str, Mapping[str, Any]]]) -> Sanctions:
    """Fold a notifier's ``(ts, type, payload)`` events, oldest first."""
    sanctions = Sanctions()
    for ts, event_type, payload in events:
        sanctions = apply(sanctions, ts, event_type, payload)
    return sanctions


@dataclass(frozen=True)
class Tally:
    """Decided notices within the window, and how many of them were unfounded."""

    decided: int = 0
    unfounded: int = 0

    @property
    def founded(self) -> int:
        return self.decided - self.unfounded

    @property
    def share(self) -> float:
        return self.unfounded / self.decided if self.decided else 0.0


def tally(outcomes: Iterable[tuple[datetime, bool]], *, now: datetime, window: timedelta) -> Tally:
    """Count ``(decided_at, unfounded)`` outcomes in the window ending at ``now``."""
    decided = unfounded = 0
    for at, was_unfounded in outcomes:
        if now - window < at <= now:
            decided += 1
            unfounded += int(was_unfounded)
    return Tally(decided, unfounded)


@dataclass(frozen=True)
class Assessment:
    tally: Tally
    sanctions: Sanctions  # after any new warning or limit
    status: NotifierStatus
    warn: bool = False  # a warning is due now
    limit: bool = False  # a limit is due now


def assess(
    outcomes: Iterable[tuple[datetime, bool]],
    prior: Sanctions,
    *,
    rules: UnfoundedNotices,
    now: datetime,
    can_limit: bool,
) -> Assessment:
    """The notifier's standing at ``now``, and whether a warning or limit is due."""
    window = rules.window_delta
    counts = tally(outcomes, now=now, window=window)
    status = prior.status_at(now, window)
    heavy = counts.decided > 0 and counts.share >= rules.min_share
    if status is NotifierStatus.LIMITED or not heavy:
        return Assessment(counts, prior, status)
    if status is NotifierStatus.WARNED and can_limit and counts.unfounded >= rules.limit_after:
        limited = replace(prior, limited_until=now + rules.limit_delta, per_day=rules.limit_per_day)
        return Assessment(counts, limited, NotifierStatus.LIMITED, limit=True)
    if status is NotifierStatus.OK and counts.unfounded >= rules.warn_after:
        warned = replace(prior, warned_at=now)
        return Assessment(counts, warned, NotifierStatus.WARNED, warn=True)
    return Assessment(counts, prior, status)
