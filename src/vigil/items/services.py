"""Storing ingested items, accounts and notices in bulk, idempotently by platform id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update

from vigil.banks.normalize import text_digest
from vigil.db.base import table_of
from vigil.items.models import Account, Item, Media, Notice, ScanState
from vigil.items.schemas import ItemRecord, NoticeRecord
from vigil.notices.services import acknowledge, intake_refusal
from vigil.signals.matchers import MediaHashes, ScanInput
from vigil.unit_of_work import UnitOfWork


def text_hash(text: str | None) -> str | None:
    """SHA-256 of the normalised text: kept after the text itself is dropped."""
    if text is None:
        return None
    return text_digest(text)


@dataclass(frozen=True)
class StoredItem:
    """A freshly stored item, with what the scan stage needs."""

    id: int
    platform_item_id: str
    account_id: int
    kind: str
    scan: ScanInput


@dataclass(frozen=True)
class StoredNotice:
    id: int
    item_id: int
    category: str
    reporter_type: str


def _accounts_for(uow: UnitOfWork, records: Sequence[ItemRecord]) -> dict[str, int]:
    wanted: dict[str, ItemRecord] = {}
    for r in records:
        wanted.setdefault(r.author_id, r)
    ids: dict[str, int] = {
        pid: account_id
        for pid, account_id in uow.session.execute(
            select(Account.platform_account_id, Account.id).where(
                Account.platform_account_id.in_(wanted)
            )
        )
    }
    missing = [r for pid, r in wanted.items() if pid not in ids]
    if missing:
        now = uow.now()
        rows = [
            {
                "platform_account_id": r.author_id,
                "handle": r.author_handle,
                "country": r.author_country,
                "account_type": r.author_type,
                "registered_at": r.author_registered_at,
                "status": "active",
                "first_seen_at": now,
            }
            for r in missing
        ]
        # Plain executemany then one look-up: much faster than RETURNING per row on SQLite.
        uow.session.execute(insert(table_of(Account)), rows)
        created = uow.session.execute(
            select(Account.id, Account.platform_account_id)
            .where(Account.platform_account_id.in_([r["platform_account_id"] for r in rows]))
            .order_by(Account.id)
        )
        for account_id, pid in created:
            ids[pid] = account_id
            uow.log.record(
                "account.first_seen", f"account:{account_id}", {"platform_account_id": pid}
            )
    return ids


def store_items(uow: UnitOfWork, records: Sequence[ItemRecord]) -> tuple[list[StoredItem], int]:
    """Insert items not already stored; returns the new ones and how many were duplicates."""
    unique: dict[str, ItemRecord] = {}
    for r in records:
        unique.setdefault(r.id, r)
    existing = set(
        uow.session.scalars(select(Item.platform_item_id).where(Item.platform_item_id.in_(unique)))
    )
    fresh = [r for pid, r in unique.items() if pid not in existing]
    duplicates = len(records) - len(fresh)
    if not fresh:
        return [], duplicates
    accounts = _accounts_for(uow, fresh)
    now = uow.now()
    rows: list[dict[str, Any]] = [
        {
            "platform_item_id": r.id,
            "kind": r.kind.value,
            "account_id": accounts[r.author_id],
            "space": r.space,
            "parent_platform_id": r.parent_id,
            "created_at": r.created_at,
            "ingested_at": now,
            "language": r.language,
            "country": r.country,
            "text": r.text,
            "urls": list(r.urls) or None,
            "text_sha256": text_hash(r.text),
            "status": "visible",
            "scan_state": ScanState.PENDING.value,
            "content_retained": True,
        }
        for r in fresh
    ]
    uow.session.execute(insert(table_of(Item)), rows)
    id_of: dict[str, int] = {
        pid: item_id
        for pid, item_id in uow.session.execute(
            select(Item.platform_item_id, Item.id).where(
                Item.platform_item_id.in_([r.id for r in fresh])
            )
        )
    }
    item_ids = [id_of[r.id] for r in fresh]
    media_rows: list[dict[str, Any]] = []
    stored: list[StoredItem] = []
    for item_id, r in zip(item_ids, fresh, strict=True):
        hashes = []
        for position, m in enumerate(r.media):
            data = m.data
            media_rows.append(
                {
                    "item_id": item_id,
                    "position": position,
                    "url": m.url,
                    "mime": m.mime,
                    "md5": m.md5,
                    "sha256": m.sha256,
                    "size": len(data) if data is not None else None,
                    "data": data,
                    "pdq": m.pdq,
                    "pdq_quality": m.pdq_quality,
                    "pdq_variants": list(m.pdq_variants) or None,
                }
            )
            hashes.append(MediaHashes(position, m.md5, m.sha256, m.pdq, m.pdq_variants))
        stored.append(
            StoredItem(
                item_id,
                r.id,
                accounts[r.author_id],
                r.kind.value,
                ScanInput(
                    item_id, r.text, r.urls, hashes, text_sha256=rows[len(stored)]["text_sha256"]
                ),
            )
        )
        uow.log.record(
            "item.ingested",
            f"item:{item_id}",
            {
                "platform_item_id": r.id,
                "kind": r.kind.value,
                "account_id": accounts[r.author_id],
                "text_sha256": rows[len(stored) - 1]["text_sha256"],
                "media_sha256": [m.sha256 for m in r.media],
                "media_pdq": [m.pdq for m in r.media],
            },
        )
    if media_rows:
        uow.session.execute(insert(table_of(Media)), media_rows)
    return stored, duplicates


@dataclass
class NoticeIntake:
    """What became of a batch's notices; refused ones are also in ``rejected``."""

    stored: list[StoredNotice] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    refused: int = 0


def store_notices(uow: UnitOfWork, records: Sequence[tuple[int, NoticeRecord]]) -> NoticeIntake:
    """Insert and acknowledge new notices.

    A notice about an unknown item is rejected with its line; one from a notifier
    limited under DSA Art. 23 beyond its daily allowance is refused, not stored.
    Either way the rest of the batch goes on.
    """
    out = NoticeIntake()
    if not records:
        return out
    item_ids: dict[str, int] = {
        pid: item_id
        for pid, item_id in uow.session.execute(
            select(Item.platform_item_id, Item.id).where(
                Item.platform_item_id.in_({r.item_id for _, r in records})
            )
        )
    }
    existing = set(
        uow.session.scalars(
            select(Notice.platform_notice_id).where(
                Notice.platform_notice_id.in_({r.id for _, r in records})
            )
        )
    )
    for line, r in records:
        if r.id in existing:
            out.duplicates += 1
            continue
        if r.item_id not in item_ids:
            out.rejected.append((line, f"item_id: no item {r.item_id!r} has been ingested"))
            continue
        refusal = intake_refusal(
            uow, platform_notice_id=r.id, notifier=r.reporter, reporter_type=r.reporter_type
        )
        if refusal is not None:
            out.refused += 1
            out.rejected.append((line, refusal))
            continue
        existing.add(r.id)
        notice = Notice(
            platform_notice_id=r.id,
            item_id=item_ids[r.item_id],
            reporter=r.reporter,
            reporter_type=r.reporter_type,
            category=r.category,
            reason=r.reason,
            received_at=r.received_at,
        )
        uow.session.add(notice)
        uow.session.flush()
        uow.log.record(
            "notice.received",
            f"notice:{notice.id}",
            {"item_id": notice.item_id, "category": r.category, "reporter_type": r.reporter_type},
        )
        acknowledge(uow, notice)
        out.stored.append(StoredNotice(notice.id, notice.item_id, r.category, r.reporter_type))
    return out


def mark_scanned(uow: UnitOfWork, item_ids: Sequence[int], drop_content_of: Sequence[int]) -> None:
    """Record the scan; drop text and media of items whose content need not be kept."""
    if not item_ids:
        return
    now = uow.now()
    uow.session.execute(
        update(Item)
        .where(Item.id.in_(item_ids))
        .values(scan_state=ScanState.SCANNED.value, scanned_at=now)
    )
    dropped = set(drop_content_of)
    if dropped:
        drop_content(uow, sorted(dropped), reason="no signal at scan")
    for item_id in item_ids:
        uow.log.record("item.scanned", f"item:{item_id}", {"content_dropped": item_id in dropped})


def drop_content(uow: UnitOfWork, item_ids: Sequence[int], *, reason: str) -> None:
    """Null the text, URLs and media of items, keeping their ids and hashes."""
    now = uow.now()
    uow.session.execute(
        update(Item)
        .where(Item.id.in_(item_ids))
        .values(text=None, urls=None, content_retained=False, content_dropped_at=now)
    )
    uow.session.execute(
        update(Media).where(Media.item_id.in_(item_ids)).values(url=None, data=None)
    )
    uow.log.record("items.content_dropped", "items", {"item_ids": list(item_ids), "reason": reason})


def stored_scan_inputs(uow: UnitOfWork, item_ids: Sequence[int]) -> list[ScanInput]:
    """What the matchers may look at for stored items, in id order: whatever content is left.

    Items whose content was dropped still have their text digest and media hashes,
    which is all that hash and exact-text banks need.
    """
    if not item_ids:
        return []
    media: dict[int, list[MediaHashes]] = {i: [] for i in item_ids}
    rows = uow.session.execute(
        select(
            Media.item_id, Media.position, Media.md5, Media.sha256, Media.pdq, Media.pdq_variants
        )
        .where(Media.item_id.in_(item_ids))
        .order_by(Media.item_id, Media.position)
    )
    for item_id, position, md5, sha256, pdq, variants in rows:
        media[item_id].append(MediaHashes(position, md5, sha256, pdq, tuple(variants or ())))
    items = uow.session.execute(
        select(Item.id, Item.text, Item.urls, Item.text_sha256)
        .where(Item.id.in_(item_ids))
        .order_by(Item.id)
    )
    return [
        ScanInput(item_id, text, list(urls or ()), media[item_id], text_sha256=digest)
        for item_id, text, urls, digest in items
    ]
