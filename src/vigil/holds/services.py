"""Placing, extending and releasing legal holds, and asking what they protect.

Retention and erasure ask :func:`held_item_ids` and :func:`account_held` before
deleting anything; a hold placed by a referral or an authority's request keeps
the data until it expires (or an authority releases it early), and
:func:`sweep_lapsed` records each lapse so the deletion can follow.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select

from vigil.holds.models import LegalHold
from vigil.items.models import Item
from vigil.unit_of_work import UnitOfWork


class HoldError(ValueError):
    pass


def _active(now: datetime) -> ColumnElement[bool]:
    return and_(LegalHold.released_at.is_(None), LegalHold.expires_at > now)


def place(
    uow: UnitOfWork,
    *,
    account_id: int,
    item_id: int | None = None,
    source: str,
    legal_basis: str,
    duration: timedelta,
    by: str,
) -> LegalHold:
    """Preserve an account's data (or one item's) for ``duration`` from now (``hold.placed``)."""
    if duration <= timedelta(0):
        raise HoldError("duration: a hold must last some time")
    if not legal_basis.strip():
        raise HoldError("legal_basis: a hold names the law or order it rests on")
    now = uow.now()
    hold = LegalHold(
        account_id=account_id,
        item_id=item_id,
        source=source,
        legal_basis=legal_basis.strip(),
        placed_by=by,
        placed_at=now,
        expires_at=now + duration,
    )
    uow.session.add(hold)
    uow.session.flush()
    uow.log.record(
        "hold.placed",
        f"hold:{hold.id}",
        {
            "hold_id": hold.id,
            "account_id": account_id,
            "item_id": item_id,
            "source": source,
            "legal_basis": hold.legal_basis,
            "expires_at": hold.expires_at,
        },
        actor=by,
    )
    return hold


def _get(uow: UnitOfWork, hold_id: int) -> LegalHold:
    hold = uow.session.get(LegalHold, hold_id)
    if hold is None:
        raise HoldError(f"no legal hold #{hold_id}")
    return hold


def extend(uow: UnitOfWork, hold_id: int, *, until: datetime, by: str, reason: str) -> LegalHold:
    """Keep a hold longer, e.g. at an authority's request (``hold.extended``); never shorter."""
    hold = _get(uow, hold_id)
    if hold.released_at is not None or hold.lapsed_at is not None:
        raise HoldError(f"hold #{hold_id} has ended; place a new one")
    if until <= hold.expires_at:
        raise HoldError(f"until: {until.isoformat()} is not after the current end")
    before = hold.expires_at
    hold.expires_at = until
    uow.session.flush()
    uow.log.record(
        "hold.extended",
        f"hold:{hold.id}",
        {"hold_id": hold.id, "from": before, "until": until, "reason": reason},
        actor=by,
    )
    return hold


def release(uow: UnitOfWork, hold_id: int, *, by: str, reason: str) -> LegalHold:
    """End a hold early, e.g. when the authority says it is no longer needed (``hold.released``)."""
    hold = _get(uow, hold_id)
    if hold.released_at is not None or hold.lapsed_at is not None:
        raise HoldError(f"hold #{hold_id} has already ended")
    hold.released_at = uow.now()
    uow.session.flush()
    uow.log.record(
        "hold.released", f"hold:{hold.id}", {"hold_id": hold.id, "reason": reason}, actor=by
    )
    return hold


def held_item_ids(uow: UnitOfWork, item_ids: Iterable[int]) -> set[int]:
    """Which of ``item_ids`` a hold in force protects (directly, or through their account)."""
    ids = list(item_ids)
    if not ids:
        return set()
    now = uow.now()
    rows = uow.session.scalars(
        select(Item.id)
        .join(LegalHold, LegalHold.account_id == Item.account_id)
        .where(Item.id.in_(ids), _active(now))
        .where(or_(LegalHold.item_id.is_(None), LegalHold.item_id == Item.id))
    )
    return set(rows)


def account_held(uow: UnitOfWork, account_id: int) -> bool:
    """Whether a whole-account hold is in force (its personal data must stay)."""
    now = uow.now()
    return (
        uow.session.scalar(
            select(LegalHold.id)
            .where(LegalHold.account_id == account_id, LegalHold.item_id.is_(None), _active(now))
            .limit(1)
        )
        is not None
    )


def holds_for(uow: UnitOfWork, account_id: int) -> list[LegalHold]:
    return list(
        uow.session.scalars(
            select(LegalHold).where(LegalHold.account_id == account_id).order_by(LegalHold.id)
        )
    )


def sweep_lapsed(uow: UnitOfWork, *, limit: int = 500) -> list[LegalHold]:
    """Record holds that ran out (``hold.lapsed``), once each; what they kept may now go."""
    now = uow.now()
    due = list(
        uow.session.scalars(
            select(LegalHold)
            .where(
                LegalHold.expires_at <= now,
                LegalHold.released_at.is_(None),
                LegalHold.lapsed_at.is_(None),
            )
            .order_by(LegalHold.expires_at, LegalHold.id)
            .limit(limit)
        )
    )
    for hold in due:
        hold.lapsed_at = now
        uow.log.record(
            "hold.lapsed", f"hold:{hold.id}", {"hold_id": hold.id, "expired_at": hold.expires_at}
        )
    uow.session.flush()
    return due
