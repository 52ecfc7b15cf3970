"""The retention sweep for unmatched content kept under ``retention.unmatched_content: keep``."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select

from vigil.items.models import Item, ScanState
from vigil.items.services import drop_content
from vigil.policy.schema import Policy
from vigil.signals.models import Signal
from vigil.unit_of_work import UnitOfWork


def expired_unmatched(
    uow: UnitOfWork, policy: Policy, now: datetime, limit: int = 10_000
) -> list[int]:
    """Scanned items with no signal whose content outlived the retention period."""
    days = (
        0
        if policy.retention.unmatched_content == "drop"
        else policy.retention.unmatched_content_days
    )
    cutoff = now - timedelta(days=days)
    stmt = (
        select(Item.id)
        .where(
            Item.scan_state == ScanState.SCANNED.value,
            Item.content_retained.is_(True),
            Item.scanned_at <= cutoff,
            ~exists().where(Signal.item_id == Item.id),
        )
        .order_by(Item.id)
        .limit(limit)
    )
    return list(uow.session.scalars(stmt))


def sweep(uow: UnitOfWork, policy: Policy) -> int:
    """Drop expired unmatched content; the deletion itself is an event. Returns items dropped."""
    ids = expired_unmatched(uow, policy, uow.now())
    if ids:
        days = policy.retention.unmatched_content_days
        drop_content(uow, ids, reason=f"retention: unmatched content kept {days} day(s)")
    return len(ids)
