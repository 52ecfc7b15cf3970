"""An account's standing as pure functions of its own record: strikes and upheld verdicts.

Nothing here reads the database, so what an account's standing can depend on
is exactly what these functions take: its own strikes and the verdicts upheld
on its own items. Notices filed against it that were not upheld, other
accounts, its country or type, and notices it filed never reach them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from vigil.policy.schema import ActionKind, Enforcement, OfConcern


@dataclass(frozen=True)
class StrikeFact:
    """A strike as standing needs it."""

    strike_id: int | None
    category: str
    weight: int
    issued_at: datetime
    expires_at: datetime
    removed_at: datetime | None = None

    def active_at(self, at: datetime) -> bool:
        """Counts at ``at``: issued, not yet expired, and never removed on appeal."""
        return self.removed_at is None and self.issued_at <= at < self.expires_at


@dataclass(frozen=True)
class VerdictFact:
    """A verdict on one of the account's own items that was upheld (acted on, not reversed)."""

    verdict_id: int | None
    category: str
    at: datetime


def active_weight(strikes: Iterable[StrikeFact], at: datetime) -> int:
    """The summed weight of the strikes active at ``at``: what escalation steps compare to."""
    return sum(s.weight for s in strikes if s.active_at(at))


def escalation_steps(
    enforcement: Enforcement, weight_before: int, weight_after: int
) -> list[ActionKind]:
    """The account actions whose step a weight rising from ``weight_before`` to ``weight_after`` crosses.

    A heavy strike can cross several steps at once; each is returned, lowest first.
    """
    return [
        step.action for step in enforcement.escalation if weight_before < step.at <= weight_after
    ]


def decayed(weight: float, age: timedelta, half_life: timedelta) -> float:
    """``weight`` halved for every ``half_life`` of ``age`` (a record in the future is not discounted)."""
    seconds = max(age.total_seconds(), 0.0)
    factor: float = 0.5 ** (seconds / half_life.total_seconds())
    return float(weight) * factor


ReasonKind = Literal["strike", "verdict"]


@dataclass(frozen=True)
class Reason:
    """One part of the record behind an of-concern score, and what it weighs now."""

    kind: ReasonKind
    ref_id: int | None
    category: str
    when: datetime
    weight_now: float


@dataclass(frozen=True)
class Concern:
    score: float
    of_concern: bool
    threshold: float
    reasons: tuple[Reason, ...]


def of_concern(
    strikes: Sequence[StrikeFact],
    verdicts: Sequence[VerdictFact],
    now: datetime,
    config: OfConcern,
) -> Concern:
    """Whether the account is "of concern" now, with the reasons, heaviest first.

    Each strike active now counts its weight and each upheld verdict counts
    ``config.verdict_weight``, both halving every ``config.half_life``; expired
    and removed strikes count nothing.
    """
    half_life = config.half_life_delta
    reasons = [
        Reason(
            "strike",
            s.strike_id,
            s.category,
            s.issued_at,
            decayed(s.weight, now - s.issued_at, half_life),
        )
        for s in strikes
        if s.active_at(now)
    ]
    reasons += [
        Reason(
            "verdict",
            v.verdict_id,
            v.category,
            v.at,
            decayed(config.verdict_weight, now - v.at, half_life),
        )
        for v in verdicts
        if v.at <= now
    ]
    reasons = [r for r in reasons if r.weight_now > 0]
    reasons.sort(key=lambda r: (-r.weight_now, r.kind, r.when))
    score = sum(r.weight_now for r in reasons)
    return Concern(
        score=score,
        of_concern=score >= config.threshold,
        threshold=config.threshold,
        reasons=tuple(reasons),
    )
