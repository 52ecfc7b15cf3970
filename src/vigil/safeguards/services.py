"""The match-rate safeguard: count matches at ingest, quarantine entries that burst, release them.

Third-party hash lists sometimes hold an entry that matches far too much (a
stock photo in a list of terrorist content), and automated removals at scale
from one bad entry are a disaster. So every live-ingest batch counts, in the
same unit of work as the scan, how many items it scanned and how many of them
each entry matched. An entry whose rate in the window jumps past ``factor``
times its baseline is quarantined: its signals are still raised, marked as
quarantined, and the policy engine turns any verdict that needs them into a
review case. A person then releases the entry or disables it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.banks.models import Bank, BankEntry
from vigil.banks.services import BankError, get_entry, reason_digest
from vigil.db.base import table_of
from vigil.policy.schema import MatchRate, Policy
from vigil.safeguards.models import EntryMatchCount, Quarantine, ScanCount
from vigil.safeguards.rates import (
    Counts,
    RateCheck,
    baseline_start,
    bucket_of,
    check,
    percent,
    window_start,
)
from vigil.signals.drafts import SignalDraft
from vigil.unit_of_work import UnitOfWork

QUARANTINED_EVENT = "bank.entry_quarantined"
RELEASED_EVENT = "bank.entry_released"


def guard_matches(
    uow: UnitOfWork, policy: Policy, scanned: int, drafts: Sequence[SignalDraft]
) -> list[SignalDraft]:
    """Count one live-ingest batch, quarantine entries that burst, mark their drafts.

    ``scanned`` is how many new items the batch scanned; ``drafts`` its signals
    (withheld matches are not drafts, so they never count). The returned drafts
    carry each entry's quarantine state as it stands now in the database, so an
    index loaded before a quarantine (or a release) still follows it, and every
    signal of the batch that tripped an entry is already marked.
    """
    cfg = policy.safeguards.match_rate
    now = uow.now()
    matched: dict[int, set[int]] = defaultdict(set)
    for d in drafts:
        if d.entry is not None:
            matched[d.entry.entry_id].add(d.item_id)
    counts = {entry_id: len(items) for entry_id, items in matched.items()}
    _count(uow, cfg, now, scanned, counts)
    if not counts:
        return list(drafts)
    if cfg.enabled:
        _check(uow, cfg, now, sorted(counts))
    held = _held(uow, sorted(counts))
    for entry_id in sorted(held):
        uow.session.execute(
            update(Quarantine)
            .where(Quarantine.bank_entry_id == entry_id, Quarantine.released_at.is_(None))
            .values(held_matches=Quarantine.held_matches + counts[entry_id])
        )
    return [_marked(d, held) for d in drafts]


def mark_quarantined(uow: UnitOfWork, drafts: Sequence[SignalDraft]) -> list[SignalDraft]:
    """Mark drafts whose entry is quarantined now, without counting them.

    For matches that are not live traffic (a rescan of stored items): a burst
    there is expected and must not trip the safeguard, but an entry a person
    has not released still may not act alone.
    """
    entry_ids = sorted({d.entry.entry_id for d in drafts if d.entry is not None})
    if not entry_ids:
        return list(drafts)
    held = _held(uow, entry_ids)
    return [_marked(d, held) for d in drafts]


def _held(uow: UnitOfWork, entry_ids: list[int]) -> set[int]:
    return set(
        uow.session.scalars(
            select(BankEntry.id).where(
                BankEntry.id.in_(entry_ids), BankEntry.quarantined_at.is_not(None)
            )
        )
    )


def _marked(draft: SignalDraft, held: set[int]) -> SignalDraft:
    if draft.entry is None:
        return draft
    quarantined = draft.entry.entry_id in held
    if draft.entry.quarantined == quarantined:
        return draft
    return replace(draft, entry=replace(draft.entry, quarantined=quarantined))


def _upsert(uow: UnitOfWork, model: Any, keys: list[str], column: str, rows: list[Any]) -> None:
    """Add to a counter row, creating it if needed; safe with concurrent PostgreSQL writers."""
    table = table_of(model)
    dialect = uow.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={column: table.c[column] + stmt.excluded[column]}
    )
    uow.session.execute(stmt, rows)


def _count(
    uow: UnitOfWork, cfg: MatchRate, now: datetime, scanned: int, matches: dict[int, int]
) -> None:
    bucket = bucket_of(now)
    if scanned:
        _upsert(uow, ScanCount, ["bucket"], "items", [{"bucket": bucket, "items": scanned}])
    if matches:
        # Sorted, so concurrent batches lock counter rows in the same order.
        rows = [
            {"bank_entry_id": entry_id, "bucket": bucket, "matches": n}
            for entry_id, n in sorted(matches.items())
        ]
        _upsert(uow, EntryMatchCount, ["bank_entry_id", "bucket"], "matches", rows)
    oldest = baseline_start(now, cfg)
    uow.session.execute(delete(ScanCount).where(ScanCount.bucket < oldest))
    uow.session.execute(delete(EntryMatchCount).where(EntryMatchCount.bucket < oldest))


def _check(uow: UnitOfWork, cfg: MatchRate, now: datetime, entry_ids: list[int]) -> None:
    """Quarantine every entry among ``entry_ids`` whose window rate trips the rule."""
    session = uow.session
    start, oldest = window_start(now, cfg), baseline_start(now, cfg)
    in_window = _matches(session, entry_ids, start, None)
    candidates = [e for e in entry_ids if in_window.get(e, 0) >= cfg.min_matches]
    if not candidates:
        return
    entries = list(
        session.execute(
            select(BankEntry.id, BankEntry.bank_id, BankEntry.added_at)
            .where(BankEntry.id.in_(candidates), BankEntry.quarantined_at.is_(None))
            .order_by(BankEntry.id)
        )
    )
    if not entries:
        return
    ids = [e.id for e in entries]
    history = _matches(session, ids, oldest, start)
    accepted: dict[int, float] = {
        entry_id: float(rate)
        for entry_id, rate in session.execute(
            select(Quarantine.bank_entry_id, func.max(Quarantine.window_rate))
            .where(Quarantine.bank_entry_id.in_(ids), Quarantine.released_at.is_not(None))
            .group_by(Quarantine.bank_entry_id)
        )
    }
    scans = list(
        session.execute(select(ScanCount.bucket, ScanCount.items).where(ScanCount.bucket >= oldest))
    )
    for entry_id, bank_id, added_at in entries:
        # Items scanned before the entry existed say nothing about its rate.
        since = bucket_of(added_at)
        window_items = sum(n for b, n in scans if b >= max(start, since))
        history_items = sum(n for b, n in scans if max(oldest, since) <= b < start)
        result = check(
            cfg,
            Counts(in_window[entry_id], window_items),
            Counts(history.get(entry_id, 0), history_items),
            accepted.get(entry_id),
        )
        if result.tripped:
            _quarantine(uow, cfg, entry_id, bank_id, result)


def _matches(
    session: Session, entry_ids: list[int], start: datetime, end: datetime | None
) -> dict[int, int]:
    stmt = select(EntryMatchCount.bank_entry_id, func.sum(EntryMatchCount.matches)).where(
        EntryMatchCount.bank_entry_id.in_(entry_ids), EntryMatchCount.bucket >= start
    )
    if end is not None:
        stmt = stmt.where(EntryMatchCount.bucket < end)
    return {e: int(n) for e, n in session.execute(stmt.group_by(EntryMatchCount.bank_entry_id))}


def _quarantine(
    uow: UnitOfWork, cfg: MatchRate, entry_id: int, bank_id: int, result: RateCheck
) -> None:
    now = uow.now()
    # Conditional, so of two concurrent batches that both trip the entry only one records it.
    claimed = cast(
        CursorResult[Any],
        uow.session.execute(
            update(BankEntry)
            .where(BankEntry.id == entry_id, BankEntry.quarantined_at.is_(None))
            .values(quarantined_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    if claimed.rowcount != 1:
        return
    window = result.window
    reason = (
        f"matched {window.matches:,} of {window.items:,} items scanned in the last "
        f"{cfg.window} ({percent(window.rate)}), more than {cfg.factor:g} times its "
        f"baseline of {percent(result.baseline_rate)}"
    )
    row = Quarantine(
        bank_entry_id=entry_id,
        quarantined_at=now,
        reason=reason,
        window_matches=window.matches,
        window_items=window.items,
        window_rate=window.rate,
        baseline_rate=result.baseline_rate,
        factor=cfg.factor,
        held_matches=0,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.log.record(
        QUARANTINED_EVENT,
        f"bank:{bank_id}",
        {
            "bank_entry_id": entry_id,
            "quarantine_id": row.id,
            "window_s": int(cfg.window_delta.total_seconds()),
            "window_matches": window.matches,
            "window_items": window.items,
            "window_rate": window.rate,
            "baseline_s": int(cfg.baseline_delta.total_seconds()),
            "baseline_matches": result.baseline.matches,
            "baseline_items": result.baseline.items,
            "baseline_rate": result.baseline_rate,
            "factor": cfg.factor,
            "min_matches": cfg.min_matches,
        },
    )


def release_entry(uow: UnitOfWork, bank_name: str, entry_id: int, reason: str) -> bool:
    """A person lifts the quarantine; ``False`` when the entry was not quarantined.

    The entry acts on its own again. Its baseline never falls below the rate
    that tripped it, so the same burst does not quarantine it again; a further
    ``factor``-fold jump does.
    """
    bank, entry = get_entry(uow.session, bank_name, entry_id)
    if not reason.strip():
        raise BankError("give a --reason for releasing the entry")
    if entry.quarantined_at is None:
        return False
    now = uow.now()
    entry.quarantined_at = None
    episode = uow.session.scalars(
        select(Quarantine)
        .where(Quarantine.bank_entry_id == entry.id, Quarantine.released_at.is_(None))
        .order_by(Quarantine.id.desc())
    ).first()
    payload: dict[str, Any] = {"bank_entry_id": entry.id, "reason_sha256": reason_digest(reason)}
    if episode is not None:
        episode.released_at, episode.release_reason = now, reason.strip()
        payload.update(
            quarantine_id=episode.id,
            accepted_rate=episode.window_rate,
            held_matches=episode.held_matches,
        )
    uow.session.flush()
    uow.log.record(RELEASED_EVENT, f"bank:{bank.id}", payload)
    return True


@dataclass(frozen=True)
class QuarantinedEntry:
    """A quarantined entry as a person needs to see it."""

    bank: str
    entry_id: int
    external_id: str | None
    source: str
    enabled: bool
    quarantined_at: datetime
    reason: str
    window_matches: int
    held_matches: int


def quarantined_entries(session: Session, bank: str | None = None) -> list[QuarantinedEntry]:
    """Entries under quarantine now, longest-held first."""
    stmt = (
        select(Bank.name, BankEntry, Quarantine)
        .join(BankEntry, BankEntry.bank_id == Bank.id)
        .join(Quarantine, Quarantine.bank_entry_id == BankEntry.id)
        .where(BankEntry.quarantined_at.is_not(None), Quarantine.released_at.is_(None))
        .order_by(BankEntry.quarantined_at, BankEntry.id)
    )
    if bank is not None:
        stmt = stmt.where(Bank.name == bank)
    return [
        QuarantinedEntry(
            name,
            entry.id,
            entry.external_id,
            entry.source,
            entry.enabled,
            q.quarantined_at,
            q.reason,
            q.window_matches,
            q.held_matches,
        )
        for name, entry, q in session.execute(stmt)
    ]
