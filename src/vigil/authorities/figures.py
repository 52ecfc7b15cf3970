"""Figures on requests from authorities, per authority and country, for transparency reports.

Counts follow DSA Art. 15(1)(a) and the large platforms' reports: requests,
accounts specified, the share with some data produced (over requests answered
with data; preservation and orders to act are counted but not in that share),
refusals by reason code, and median times to acknowledge and to give effect
(production or effect given), from receipt.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.authorities.models import (
    AuthorityProduction,
    AuthorityRequest,
    AuthorityTarget,
    RequestKind,
)


@dataclass
class RequestFigures:
    authority: str
    country: str
    requests: int = 0
    accounts_specified: int = 0
    answerable_with_data: int = 0
    some_data_produced: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    ack_seconds: list[float] = field(default_factory=list)
    effect_seconds: list[float] = field(default_factory=list)

    @property
    def share_some_data(self) -> float | None:
        if not self.answerable_with_data:
            return None
        return self.some_data_produced / self.answerable_with_data

    @property
    def median_ack_seconds(self) -> float | None:
        return statistics.median(self.ack_seconds) if self.ack_seconds else None

    @property
    def median_effect_seconds(self) -> float | None:
        return statistics.median(self.effect_seconds) if self.effect_seconds else None


def request_figures(session: Session, since: datetime, until: datetime) -> list[RequestFigures]:
    """Requests received in ``[since, until)``, grouped by authority and country."""
    requests = list(
        session.scalars(
            select(AuthorityRequest)
            .where(AuthorityRequest.received_at >= since, AuthorityRequest.received_at < until)
            .order_by(AuthorityRequest.id)
        )
    )
    ids = [r.id for r in requests]
    targets: dict[int, int] = {
        rid: int(n)
        for rid, n in session.execute(
            select(AuthorityTarget.request_id, func.count())
            .where(AuthorityTarget.request_id.in_(ids))
            .group_by(AuthorityTarget.request_id)
        )
    }
    produced: set[int] = {
        p.request_id
        for p in session.scalars(
            select(AuthorityProduction).where(AuthorityProduction.request_id.in_(ids))
        )
        if p.account_ids
    }
    rows: dict[tuple[str, str], RequestFigures] = {}
    for r in requests:
        key = (r.authority_name, r.authority_country)
        row = rows.setdefault(key, RequestFigures(*key))
        row.requests += 1
        row.accounts_specified += int(targets.get(r.id, 0))
        if RequestKind(r.kind).produces:
            row.answerable_with_data += 1
            row.some_data_produced += r.id in produced
        if r.refusal_code:
            row.refusals[r.refusal_code] += 1
        if r.acknowledged_at is not None:
            row.ack_seconds.append((r.acknowledged_at - r.received_at).total_seconds())
        effect = r.produced_at or r.effect_given_at
        if effect is not None:
            row.effect_seconds.append((effect - r.received_at).total_seconds())
    return [rows[k] for k in sorted(rows)]
