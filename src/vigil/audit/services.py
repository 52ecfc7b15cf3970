"""Appending to and verifying the hash-chained event log.

Events are buffered by :class:`AuditLog` during a unit of work and written by
:meth:`AuditLog.flush` inside the same transaction as the state they describe.
The chain head row is locked (``FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE``
on SQLite) so concurrent writers extend the chain one after another.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from vigil.audit.canonical import GENESIS_HASH, canonical_json, chain_hash
from vigil.audit.models import ChainHead, Event
from vigil.db.base import table_of, utcnow

HEAD_ID = 1


@dataclass(frozen=True)
class PendingEvent:
    type: str
    subject: str
    actor: str
    payload: dict[str, Any]
    ts: datetime


class AuditLog:
    """Buffers events for one transaction and chains them on flush."""

    def __init__(self, session: Session, clock: Callable[[], datetime] = utcnow) -> None:
        self._session = session
        self._clock = clock
        self._pending: list[PendingEvent] = []

    def record(
        self,
        type: str,
        subject: str,
        payload: dict[str, Any] | None = None,
        *,
        actor: str = "system",
    ) -> None:
        self._pending.append(PendingEvent(type, subject, actor, dict(payload or {}), self._clock()))

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> int:
        """Write buffered events after the current chain head; returns how many."""
        if not self._pending:
            return 0
        head = self._session.execute(
            select(ChainHead.seq, ChainHead.hash).where(ChainHead.id == HEAD_ID).with_for_update()
        ).one_or_none()
        if head is None:
            raise RuntimeError("event chain head missing: run `vigil db upgrade`")
        seq, prev = int(head.seq), str(head.hash)
        rows: list[dict[str, Any]] = []
        for ev in self._pending:
            seq += 1
            body = canonical_json(
                {
                    "ts": ev.ts.isoformat(),
                    "type": ev.type,
                    "subject": ev.subject,
                    "actor": ev.actor,
                    "payload": ev.payload,
                }
            )
            digest = chain_hash(prev, body)
            rows.append(
                {
                    "seq": seq,
                    "ts": ev.ts,
                    "type": ev.type,
                    "subject": ev.subject,
                    "actor": ev.actor,
                    "body": body,
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            prev = digest
        self._session.execute(insert(table_of(Event)), rows)
        self._session.execute(
            update(ChainHead).where(ChainHead.id == HEAD_ID).values(seq=seq, hash=prev)
        )
        written = len(self._pending)
        self._pending.clear()
        return written

    def discard(self) -> None:
        self._pending.clear()


@dataclass(frozen=True)
class Problem:
    seq: int
    kind: str  # altered | removed | reordered | inserted | truncated
    message: str


@dataclass
class VerifyResult:
    events_checked: int = 0
    head_seq: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None


def _rows(session: Session, batch: int = 5000) -> Iterator[Event]:
    last = 0
    while True:
        chunk = list(
            session.scalars(select(Event).where(Event.seq > last).order_by(Event.seq).limit(batch))
        )
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].seq
        session.expunge_all()


def _column_mismatch(row: Event) -> str | None:
    try:
        body = json.loads(row.body)
    except ValueError:
        return "its body is not valid JSON"
    for name in ("type", "subject", "actor"):
        if body.get(name) != getattr(row, name):
            return f"its {name} column no longer matches the hashed body"
    try:
        if datetime.fromisoformat(body.get("ts", "")) != row.ts:
            return "its ts column no longer matches the hashed body"
    except (TypeError, ValueError):
        return "its hashed timestamp is unreadable"
    return None


def verify(session: Session) -> VerifyResult:
    """Recompute the chain; report the first altered, removed, inserted or reordered event."""
    result = VerifyResult()
    seq_by_hash = {h: s for s, h in session.execute(select(Event.seq, Event.hash))}
    prev_hash, prev_seq, prev_prev_hash = GENESIS_HASH, 0, None
    for row in _rows(session):
        result.events_checked += 1
        problem = _check_row(row, prev_hash, prev_seq, prev_prev_hash, seq_by_hash)
        if problem is not None:
            result.problems.append(problem)
            return result
        prev_prev_hash, prev_hash, prev_seq = prev_hash, row.hash, row.seq
    head = session.execute(
        select(ChainHead.seq, ChainHead.hash).where(ChainHead.id == HEAD_ID)
    ).one_or_none()
    result.head_seq = int(head.seq) if head else 0
    if head is None:
        result.problems.append(Problem(0, "truncated", "the chain head row is missing"))
    elif int(head.seq) != prev_seq or head.hash != prev_hash:
        if int(head.seq) > prev_seq:
            msg = (
                f"the log ends at event #{prev_seq} but the chain head records #{head.seq}: "
                f"events #{prev_seq + 1}..#{head.seq} were removed"
            )
            result.problems.append(Problem(prev_seq + 1, "removed", msg))
        else:
            msg = f"the chain head (#{head.seq}) does not match the last event (#{prev_seq})"
            result.problems.append(Problem(prev_seq, "truncated", msg))
    return result


def _check_row(
    row: Event,
    prev_hash: str,
    prev_seq: int,
    prev_prev_hash: str | None,
    seq_by_hash: dict[str, int],
) -> Problem | None:
    if row.seq != prev_seq + 1:
        missing = prev_seq + 1
        return Problem(
            missing,
            "removed",
            f"event #{missing} was removed (the log jumps from #{prev_seq} to #{row.seq})",
        )
    if chain_hash(row.prev_hash, row.body) != row.hash:
        return Problem(
            row.seq,
            "altered",
            f"event #{row.seq} was altered: its content no longer matches its hash",
        )
    if (why := _column_mismatch(row)) is not None:
        return Problem(row.seq, "altered", f"event #{row.seq} was altered: {why}")
    if row.prev_hash == prev_hash:
        return None
    if prev_prev_hash is not None and row.prev_hash == prev_prev_hash:
        return Problem(
            prev_seq,
            "inserted",
            f"event #{prev_seq} was inserted: event #{row.seq} follows the event before it",
        )
    linked = seq_by_hash.get(row.prev_hash)
    if linked is not None and linked > row.seq:
        return Problem(
            row.seq,
            "reordered",
            f"event #{row.seq} was reordered: it was written after event #{linked}, which now comes later",
        )
    if linked is not None and linked < prev_seq:
        return Problem(
            linked + 1,
            "removed",
            f"events after #{linked} were removed and the rest renumbered (event #{row.seq} follows #{linked})",
        )
    if row.prev_hash == GENESIS_HASH:
        return Problem(row.seq, "removed", f"events before #{row.seq} were removed")
    return Problem(
        row.seq,
        "removed",
        f"the event before #{row.seq} was removed or replaced: its predecessor hash matches no event",
    )


def as_reducer_input(rows: Iterable[Event]) -> list[tuple[str, dict[str, Any]]]:
    """Events as ``(type, payload)`` pairs: the input of every pure status reducer."""
    return [(row.type, json.loads(row.body)["payload"]) for row in rows]
