"""PDQ entries at platform scale: one exact index per bank, provenance read only for matches.

A PDQ bank may hold millions of hashes. Keeping a Python object per entry (its
provenance, as the exact-match kinds do) would cost gigabytes, and reading every
entry from the database at start would take minutes. So each PDQ bank keeps
only an index of its enabled hashes under their entry ids (about 64 bytes a
hash); a match names the entry, and :func:`resolve_entries` reads the few
matched entries' provenance when the signal is recorded.

An index can be saved next to the database and mapped back at the next start
(:func:`load_bank`, with a cache directory): the audit log position it was built
at goes with it, and ``signals.refresh`` replays the bank events after it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import numpy as np
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from vigil.audit.models import Event
from vigil.banks.models import Bank, BankEntry
from vigil.signals.drafts import EntryRef, SignalDraft, Suppression
from vigil.signals.pdq_matching import PdqMatcherBuilder, UpdatablePdqMatcher

CACHE_MIN_ENTRIES = 100_000
"""Smaller banks build in well under a second: only larger ones are saved for the next start."""

CACHE_FORMAT = 1
REBUILD_AFTER_EVENTS = 200_000
"""A saved index further behind the log than this is built again rather than caught up."""
_READ_ROWS = 200_000


def default_builder() -> PdqMatcherBuilder:
    from vigil.signals.pdq_index import PdqIndex

    return PdqIndex.build


@dataclass
class PdqBank:
    """One bank's enabled PDQ entries, by entry id, and which ids the index holds."""

    bank_id: int
    matcher: UpdatablePdqMatcher
    through_id: int  # every entry up to this id was read when the index was built
    added: set[int] = field(default_factory=set)  # ids above ``through_id`` added since
    removed: set[int] = field(default_factory=set)  # ids up to ``through_id`` not in the index
    after_seq: int = 0  # the audit log position the index reflects

    def holds(self, entry_id: int) -> bool:
        if entry_id in self.removed:
            return False
        return entry_id <= self.through_id or entry_id in self.added

    def add(self, rows: Sequence[tuple[int, str]]) -> int:
        """Add entries the index lacks (``(entry id, hex hash)``); returns how many it lacked."""
        fresh = [(i, v) for i, v in rows if not self.holds(i)]
        if not fresh:
            return 0
        self.matcher.add([i for i, _ in fresh], [bytes.fromhex(v) for _, v in fresh])
        for entry_id, _ in fresh:
            self.removed.discard(entry_id)
            if entry_id > self.through_id:
                self.added.add(entry_id)
        return len(fresh)

    def remove(self, entry_ids: Iterable[int]) -> int:
        """Withdraw entries from the index (tombstones, not a rebuild); returns how many."""
        gone = [i for i in entry_ids if self.holds(i)]
        if not gone:
            return 0
        self.matcher.disable(gone)
        for entry_id in gone:
            self.added.discard(entry_id)
            if entry_id <= self.through_id:
                self.removed.add(entry_id)
        return len(gone)

    def save(self, directory: Path, anchor: str) -> None:
        """The index's files and a manifest with what :meth:`holds` needs (written last).

        ``anchor`` is the hash of the event at ``after_seq``: a saved index is
        only used with the database whose log holds that event.
        """
        save = getattr(self.matcher, "save", None)
        if save is None:
            return  # a matcher without files (the brute-force oracle) is rebuilt instead
        directory.mkdir(parents=True, exist_ok=True)
        save(directory / "index")
        manifest = {
            "format": CACHE_FORMAT,
            "bank_id": self.bank_id,
            "through_id": self.through_id,
            "added": sorted(self.added),
            "removed": sorted(self.removed),
            "after_seq": self.after_seq,
            "anchor": anchor,
        }
        tmp = directory / "bank.json.tmp"
        tmp.write_text(json.dumps(manifest))
        os.replace(tmp, directory / "bank.json")

    @classmethod
    def open(cls, session: Session, directory: Path, bank_id: int, now_seq: int) -> PdqBank | None:
        """A saved bank index of this database, or ``None`` when there is none to trust.

        The event at the saved position must still carry the saved hash (the
        same database, its log intact), and the index must not lag too far.
        """
        from vigil.signals.pdq_index import PdqIndex, PdqIndexFormatError

        try:
            manifest: dict[str, Any] = json.loads((directory / "bank.json").read_text())
            if manifest.get("format") != CACHE_FORMAT or manifest.get("bank_id") != bank_id:
                return None
            seq = int(manifest["after_seq"])
            if seq > now_seq or now_seq - seq > REBUILD_AFTER_EVENTS:
                return None
            if manifest.get("anchor") != _anchor(session, seq):
                return None
            matcher = PdqIndex.load(directory / "index", mmap=True)
        except (OSError, ValueError, KeyError, PdqIndexFormatError):
            return None
        return cls(
            bank_id,
            matcher,
            int(manifest["through_id"]),
            set(manifest["added"]),
            set(manifest["removed"]),
            int(manifest["after_seq"]),
        )


def load_bank(
    session: Session,
    bank_id: int,
    builder: PdqMatcherBuilder,
    *,
    after_seq: int,
    only: ColumnElement[bool] | None = None,
    cache_dir: Path | None = None,
) -> PdqBank:
    """The bank's enabled entries in an index: from the cache when saved, else from the database.

    ``after_seq`` is the log position read before this call; a bank built from
    the database reflects it. ``only`` narrows the entries (a rescan's) and
    bypasses the cache.
    """
    folder = cache_dir / f"bank-{bank_id}" if cache_dir is not None and only is None else None
    if folder is not None and (cached := PdqBank.open(session, folder, bank_id, after_seq)):
        return cached
    live = select(BankEntry.id, BankEntry.value).where(
        BankEntry.bank_id == bank_id, BankEntry.enabled.is_(True)
    )
    if only is not None:
        # A narrowed index (a rescan's) holds exactly the ids it read.
        live = live.join(Bank, Bank.id == BankEntry.bank_id).where(only)
        ids, hashes = _read(session, live)
        matcher = _build(builder, ids, hashes)
        return PdqBank(bank_id, matcher, 0, set(ids), set(), after_seq)
    through = session.scalar(select(func.max(BankEntry.id)).where(BankEntry.bank_id == bank_id))
    through_id = int(through or 0)
    withdrawn = select(BankEntry.id).where(
        BankEntry.bank_id == bank_id,
        BankEntry.id <= through_id,
        BankEntry.enabled.is_(False),
    )
    removed = set(session.scalars(withdrawn))
    ids, hashes = _read(session, live.where(BankEntry.id <= through_id))
    bank = PdqBank(bank_id, _build(builder, ids, hashes), through_id, set(), removed, after_seq)
    if folder is not None and len(ids) >= CACHE_MIN_ENTRIES:
        bank.save(folder, _anchor(session, after_seq))
    return bank


def _anchor(session: Session, seq: int) -> str:
    """The hash of the event at ``seq`` (empty before the first event)."""
    return session.scalar(select(Event.hash).where(Event.seq == seq)) or ""


def _read(session: Session, query: Select[int, str]) -> tuple[list[int], bytes]:
    """Entry ids and their hashes as one block of bytes, read in large partitions."""
    ids: list[int] = []
    blocks: list[bytes] = []
    result = session.execute(query.order_by(BankEntry.id).execution_options(yield_per=_READ_ROWS))
    for part in result.partitions():
        ids.extend(row[0] for row in part)
        blocks.append(bytes.fromhex("".join(row[1] for row in part)))
    return ids, b"".join(blocks)


def _build(builder: PdqMatcherBuilder, ids: list[int], hashes: bytes) -> UpdatablePdqMatcher:
    rows = np.frombuffer(hashes, dtype=np.uint8).reshape(-1, 32)
    return cast(UpdatablePdqMatcher, builder(np.asarray(ids, dtype=np.int64), rows))


def cache_dir_for(url: str) -> Path | None:
    """Where saved PDQ indexes of this database live: next to a SQLite file, else the user cache.

    ``VIGIL_INDEX_DIR`` overrides it; an in-memory SQLite database has none.
    """
    override = os.environ.get("VIGIL_INDEX_DIR")
    if override:
        return Path(override)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if not path or path == ":memory:":
            return None
        return Path(path + ".pdq-index")
    import hashlib

    import platformdirs

    key = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return Path(platformdirs.user_cache_dir("vigil")) / "pdq-index" / key


def resolve_entries(
    session: Session, drafts: Sequence[SignalDraft], suppressed: Sequence[Suppression] = ()
) -> tuple[list[SignalDraft], list[Suppression]]:
    """Fill in the provenance of PDQ matches (read from the database for the matched entries only)."""
    pending = {
        ref.entry_id
        for ref in [d.entry for d in drafts]
        + [s.entry for s in suppressed]
        + [s.by for s in suppressed]
        if ref is not None and not ref.resolved
    }
    if not pending:
        return list(drafts), list(suppressed)
    rows = session.execute(
        select(
            BankEntry.id,
            BankEntry.external_id,
            BankEntry.source,
            BankEntry.tags,
            BankEntry.quarantined_at,
        ).where(BankEntry.id.in_(sorted(pending)))
    )
    found = {
        eid: (ext, src, tuple(tags or ()), held is not None) for eid, ext, src, tags, held in rows
    }

    def full(ref: EntryRef) -> EntryRef:
        if ref.resolved or ref.entry_id not in found:
            return ref
        ext, src, tags, held = found[ref.entry_id]
        return replace(ref, external_id=ext, source=src, tags=tags, quarantined=held, resolved=True)

    out_drafts = []
    for d in drafts:
        if d.entry is None or d.entry.resolved:
            out_drafts.append(d)
            continue
        ref = full(d.entry)
        out_drafts.append(replace(d, entry=ref, reason=d.reason.replace(d.entry.label, ref.label)))
    out_suppressed = [replace(s, entry=full(s.entry), by=full(s.by)) for s in suppressed]
    return out_drafts, out_suppressed
