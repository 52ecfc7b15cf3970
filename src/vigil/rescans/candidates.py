"""Which stored items a rescan looks at, a chunk at a time, in item id order.

Exact kinds are found by the database: a join between the job's entries and the
indexed digests (``media.sha256``, ``media.md5``, ``items.text_sha256``), which
works whether or not the content itself is still there. Similarity and content
kinds cannot be found that way: PDQ visits every media file that has a PDQ hash,
and terms, patterns, URLs and domains visit every item whose content was kept.
The bank index then decides; a candidate is only a chance of a match.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from vigil.banks.models import BankEntry, BankKind
from vigil.items.models import Item, Media
from vigil.rescans.models import Rescan
from vigil.rescans.pdq_reach import StoredPdq

_EXACT_MEDIA = {BankKind.SHA256.value: Media.sha256, BankKind.MD5.value: Media.md5}
_TEXT_KINDS = {BankKind.TERM.value, BankKind.REGEX.value}
_LINK_KINDS = {BankKind.URL.value, BankKind.DOMAIN.value}


def _job_entries(job: Rescan) -> Select[str]:
    return select(BankEntry.value).where(
        BankEntry.bank_id == job.bank_id,
        BankEntry.id.between(job.first_entry_id, job.last_entry_id),
        BankEntry.enabled.is_(True),
    )


def next_items(session: Session, kind: str, job: Rescan, after: int, limit: int) -> list[int]:
    """Up to ``limit`` candidate item ids in ``(after, job.upto_item_id]``, ascending."""
    on_media = kind in _EXACT_MEDIA or kind == BankKind.PDQ
    item_id = Media.item_id if on_media else Item.id
    where: list[ColumnElement[bool]] = [item_id > after, item_id <= job.upto_item_id]
    if kind in _EXACT_MEDIA:
        where.append(_EXACT_MEDIA[kind].in_(_job_entries(job)))
    elif kind == BankKind.TEXT:
        where.append(Item.text_sha256.in_(_job_entries(job)))
    elif kind == BankKind.PDQ:
        where.append(Media.pdq.is_not(None))
    elif kind in _TEXT_KINDS:
        where.append(Item.text.is_not(None))
    elif kind in _LINK_KINDS:
        # Links come from the item's URLs and from its text: any item that kept its content.
        where.append(Item.content_retained.is_(True))
    else:
        raise ValueError(f"no rescan for {kind} entries")
    stmt = select(item_id).where(*where).distinct().order_by(item_id).limit(limit)
    return list(session.scalars(stmt))


def pdq_media(session: Session, item_ids: Sequence[int]) -> list[StoredPdq]:
    """``(item id, hash, stored orientations)`` of the items' media that have a PDQ hash."""
    rows = session.execute(
        select(Media.item_id, Media.pdq, Media.pdq_variants).where(
            Media.item_id.in_(item_ids), Media.pdq.is_not(None)
        )
    )
    return [(item_id, pdq, variants) for item_id, pdq, variants in rows if pdq is not None]
