"""Keeping a running scan's bank index current, without rebuilding it or pausing matching.

A long ingest loads the bank index once. Banks change under it: entries are
imported or withdrawn, banks switched off, thresholds tuned. Every such change
is an audit event (``bank.*``), so the log itself is the change feed: the
refresher reads the bank events after the last one it applied and patches the
index in place. Exact look-ups are dictionary entries, replaced one key at a
time; the PDQ matcher takes additions and withdrawals itself; term and pattern
automata are rebuilt beside the old ones and swapped in. A scan running in
another thread sees each change whole or not at all, and never waits.

Applying an event is idempotent (an entry already present is not added twice),
so the refresher may start from a chain position read just before the index was
loaded and replay events the load already saw.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from vigil.audit.models import Event
from vigil.banks.models import Bank, BankEntry
from vigil.signals.drafts import EntryRef
from vigil.signals.matchers import BankIndex, settings_of
from vigil.signals.text_matchers import RegexMatcher, TermMatcher

log = logging.getLogger(__name__)

DEFAULT_REFRESH_SECONDS = 15.0
"""How often a running scan looks for bank changes; well inside the 60 s promise."""

_ENTRY_EVENTS = {"bank.entry_enabled": True, "bank.entry_disabled": False}
_BANK_EVENTS = {"bank.enabled": True, "bank.disabled": False}


@dataclass(frozen=True)
class _EntryRow:
    bank_id: int
    entry_id: int
    value: str
    external_id: str | None
    source: str | None
    tags: tuple[str, ...]


def chain_position(session: Session) -> int:
    """The newest event's sequence number: read it before loading an index."""
    return int(session.scalar(select(func.max(Event.seq))) or 0)


class IndexUpdater:
    """Applies bank events to one :class:`BankIndex`, in log order."""

    def __init__(self, index: BankIndex, after_seq: int) -> None:
        self.index = index
        self.after_seq = after_seq
        self.applied = 0  # events applied so far; a test or a progress line can watch it
        self._dirty_text: set[str] = set()
        # Entry ranges taken into the index, for the scan's thread to hand to rescans.
        self._added: list[tuple[int, int, int]] = []
        self._added_lock = threading.Lock()

    @classmethod
    def load(cls, session: Session) -> IndexUpdater:
        position = chain_position(session)
        return cls(BankIndex.load(session), position)

    def poll(self, session: Session) -> int:
        """Apply every bank event after the last one seen; returns how many were applied."""
        rows = session.execute(
            select(Event.seq, Event.type, Event.subject, Event.body)
            .where(Event.seq > self.after_seq, Event.type.startswith("bank."))
            .order_by(Event.seq)
        ).all()
        for seq, event_type, subject, body in rows:
            payload: dict[str, Any] = json.loads(body)["payload"]
            bank_id = int(subject.split(":", 1)[1])
            self._apply(session, event_type, bank_id, payload)
            self.after_seq = seq
        self._rebuild_text_matchers()
        # Move past non-bank events too, so the next poll's range starts late.
        newest = chain_position(session)
        self.after_seq = max(self.after_seq, newest)
        self.applied += len(rows)
        return len(rows)

    def take_added(self) -> list[tuple[int, int, int]]:
        """``(bank id, first entry id, last entry id)`` taken into the index since the last call.

        Items the scan stored before these entries reached its index were not
        matched against them; ``vigil.rescans.queue.extend_rescans`` covers them.
        """
        with self._added_lock:
            added, self._added = self._added, []
        return added

    def _apply(
        self, session: Session, event_type: str, bank_id: int, payload: dict[str, Any]
    ) -> None:
        self._settings(session, bank_id)
        enabled = BankEntry.enabled.is_(True)
        if event_type == "bank.entries_added":
            first, last = int(payload["first_entry_id"]), int(payload["last_entry_id"])
            rows = self._entries(session, bank_id, BankEntry.id.between(first, last) & enabled)
            if self._add(session, rows):
                self._note_added(bank_id, first, last)
        elif event_type in _ENTRY_EVENTS:
            entry_id = int(payload["bank_entry_id"])
            if _ENTRY_EVENTS[event_type]:
                # Enabled again and not withdrawn since (a later event would remove it).
                rows = self._entries(session, bank_id, (BankEntry.id == entry_id) & enabled)
                if self._add(session, rows):
                    self._note_added(bank_id, entry_id, entry_id)
            else:
                self._remove(self._entries(session, bank_id, BankEntry.id == entry_id))
        elif event_type in _BANK_EVENTS:
            settings = self.index.banks.get(bank_id)
            if settings is not None and settings.kind == "pdq":
                # Its index stays (the scan skips a bank that is off); one made now if none.
                if _BANK_EVENTS[event_type]:
                    self.index.ensure_pdq_bank(session, bank_id)
                return
            rows = self._entries(session, bank_id, enabled)
            if _BANK_EVENTS[event_type]:
                self._add(session, rows)
            else:
                self._remove(rows)

    def _note_added(self, bank_id: int, first: int, last: int) -> None:
        with self._added_lock:
            self._added.append((bank_id, first, last))

    def _entries(self, session: Session, bank_id: int, condition: Any) -> list[_EntryRow]:
        rows = session.execute(
            select(
                BankEntry.id,
                BankEntry.value,
                BankEntry.external_id,
                BankEntry.source,
                BankEntry.tags,
            )
            .where(BankEntry.bank_id == bank_id, condition)
            .order_by(BankEntry.id)
        )
        return [
            _EntryRow(bank_id, eid, value, ext, source, tuple(tags or ()))
            for eid, value, ext, source, tags in rows
        ]

    def _settings(self, session: Session, bank_id: int) -> None:
        """Reload one bank's settings; a disabled bank keeps its (unused) settings."""
        bank = session.get(Bank, bank_id, populate_existing=True)
        if bank is not None:
            self.index.set_bank(settings_of(bank))

    def _add(self, session: Session, rows: Sequence[_EntryRow]) -> int:
        """Add entries the index lacks; returns how many it lacked."""
        index = self.index
        added = 0
        pdq: dict[int, list[tuple[int, str]]] = {}
        for row in rows:
            bank = index.banks.get(row.bank_id)
            if bank is not None and bank.kind == "pdq":
                # A PDQ bank's index follows its entries even while the bank is off;
                # the scan skips banks that are off.
                pdq.setdefault(bank.id, []).append((row.entry_id, row.value))
                continue
            if bank is None or not bank.enabled:
                continue
            refs = index.by_kind[bank.kind].get(row.value, [])
            if any(r.entry_id == row.entry_id for r in refs):
                continue  # already there: replaying an event the load had seen
            ref = EntryRef(
                bank.id,
                bank.name,
                bank.category,
                row.entry_id,
                row.external_id,
                row.source,
                row.tags,
            )
            # A new list, swapped in whole: a scan holding the old list is unaffected.
            index.by_kind[bank.kind][row.value] = [*refs, ref]
            added += 1
            if bank.kind in ("term", "regex") and not refs:
                self._dirty_text.add(bank.kind)
        for bank_id, entries in pdq.items():
            added += index.add_pdq(session, bank_id, entries)
        return added

    def _remove(self, rows: Sequence[_EntryRow]) -> None:
        index = self.index
        for row in rows:
            bank = index.banks.get(row.bank_id)
            if bank is None:
                continue
            if bank.kind == "pdq":
                index.remove_pdq(bank.id, [row.entry_id])
                continue
            refs = index.by_kind[bank.kind].get(row.value, [])
            left = [r for r in refs if r.entry_id != row.entry_id]
            if len(left) == len(refs):
                continue
            if left:
                index.by_kind[bank.kind][row.value] = left
                continue
            del index.by_kind[bank.kind][row.value]
            if bank.kind in ("term", "regex"):
                self._dirty_text.add(bank.kind)

    def _rebuild_text_matchers(self) -> None:
        """Build new automata beside the old ones, then swap: matching never waits."""
        if "term" in self._dirty_text:
            terms = self.index.by_kind.get("term")
            self.index.terms = TermMatcher(list(terms)) if terms else None
        if "regex" in self._dirty_text:
            patterns = self.index.by_kind.get("regex")
            self.index.patterns = RegexMatcher(list(patterns)) if patterns else None
        self._dirty_text.clear()


class IndexRefresher:
    """A background thread that polls the log every ``interval`` seconds."""

    def __init__(self, engine: Engine, updater: IndexUpdater, interval: float) -> None:
        self._engine = engine
        self.updater = updater
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bank-index-refresh", daemon=True)
        self.polls = 0

    def start(self) -> IndexRefresher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=max(5.0, self.interval * 2))

    def __enter__(self) -> IndexRefresher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with Session(self._engine) as session:
                    self.updater.poll(session)
            except Exception:  # a failed poll is retried next time; matching goes on
                log.exception("bank index refresh failed; retrying in %.0f s", self.interval)
            self.polls += 1
