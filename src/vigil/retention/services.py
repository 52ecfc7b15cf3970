"""Retention and erasure: unmatched content past its period, and accounts erased on request.

Neither deletes what a legal hold protects (``vigil.holds``): held data stays
until the hold lapses or is released, and a later sweep finishes the job. Each
deletion is an event that says what and why, never the deleted data.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select

from vigil.holds import services as holds
from vigil.items.models import Account, Item, ScanState
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


def sweep(uow: UnitOfWork, policy: Policy, limit: int = 10_000) -> int:
    """Drop expired unmatched content that no hold protects; returns the items dropped.

    Held items are left for a later sweep, after their hold lapses.
    """
    candidates = expired_unmatched(uow, policy, uow.now(), limit)
    held = holds.held_item_ids(uow, candidates)
    ids = [i for i in candidates if i not in held]
    if ids:
        days = policy.retention.unmatched_content_days
        drop_content(uow, ids, reason=f"retention: unmatched content kept {days} day(s)")
    return len(ids)


class ErasureError(ValueError):
    pass


def request_erasure(uow: UnitOfWork, platform_account_id: str, *, by: str) -> Account:
    """Record a user's erasure request (GDPR Art. 17) and erase what no hold protects now."""
    account = uow.session.scalar(
        select(Account).where(Account.platform_account_id == platform_account_id)
    )
    if account is None:
        raise ErasureError(f"account: no account {platform_account_id!r}")
    if account.erasure_requested_at is None:
        account.erasure_requested_at = uow.now()
        uow.session.flush()
        uow.log.record("account.erasure_requested", f"account:{account.id}", {}, actor=by)
    complete_erasure(uow, account)
    return account


def complete_erasure(uow: UnitOfWork, account: Account, *, report_withheld: bool = True) -> bool:
    """Erase the account's content and personal data except what a hold keeps; True when done.

    ``report_withheld`` logs ``account.erasure_withheld`` when a hold keeps data back;
    the sweep passes False so a hold that still stands is not logged again at every run.
    """
    if account.erased_at is not None:
        return True
    rows = uow.session.execute(
        select(Item.id, Item.content_retained).where(Item.account_id == account.id)
    ).all()
    held = holds.held_item_ids(uow, [r.id for r in rows])
    erase = [r.id for r in rows if r.content_retained and r.id not in held]
    if erase:
        drop_content(uow, erase, reason="erasure requested by the user")
    if held or holds.account_held(uow, account.id):
        if report_withheld:
            uow.log.record(
                "account.erasure_withheld",
                f"account:{account.id}",
                {"items_erased": len(erase), "items_held": len(held)},
            )
        return False
    account.handle = None
    account.registered_at = None
    account.erased_at = uow.now()
    uow.session.flush()
    uow.log.record("account.erased", f"account:{account.id}", {"items_erased": len(erase)})
    return True


def sweep_erasures(uow: UnitOfWork, limit: int = 500) -> int:
    """Finish erasures that holds delayed, after the holds lapse; returns accounts completed."""
    holds.sweep_lapsed(uow)
    pending = uow.session.scalars(
        select(Account)
        .where(Account.erasure_requested_at.is_not(None), Account.erased_at.is_(None))
        .order_by(Account.id)
        .limit(limit)
    )
    return sum(complete_erasure(uow, a, report_withheld=False) for a in list(pending))
