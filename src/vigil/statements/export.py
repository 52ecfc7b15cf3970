"""Exporting statements of reasons in the transparency database's batch format.

Each file is one request body for ``POST /api/v1/statements``:
``{"statements": [...]}`` with at most 100 statements, in a stable order (issue
time, then id), so the same selection always gives the same files. Every body is
scrubbed and validated again on the way out: a statement that fails is reported
by PUID and field and left out, without holding back the others.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from vigil.items.models import Account, Item
from vigil.statements.models import StatementOfReasons
from vigil.statements.reducer import PENDING
from vigil.statements.rules import validate_statement
from vigil.statements.scrubber import scrub_statement
from vigil.statements.services import known_identifiers

BATCH_SIZE = 100  # the batch endpoint takes 1..100 statements per request
FILE_PATTERN = "statements-{:04d}.json"

T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    """Why one statement cannot be sent: its PUID, the field and the message."""

    puid: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.puid}: {self.field}: {self.message}"


@dataclass(frozen=True)
class Prepared:
    """A stored statement made ready to send: scrubbed again and validated."""

    statement_id: int
    puid: str
    body: dict[str, Any]
    problems: tuple[Problem, ...] = ()
    scrubbed: tuple[str, ...] = ()  # fields that still held personal data when stored

    @property
    def ok(self) -> bool:
        return not self.problems


def _problem(puid: str, message: str) -> Problem:
    name, _, rest = message.partition(": ")
    return Problem(puid, name, rest or message)


def prepare(session: Session, row: StatementOfReasons) -> Prepared:
    """Scrub and validate ``row``'s body for submission (the stored body is not changed)."""
    account = session.get(Account, row.account_id)
    item = session.get(Item, row.item_id) if row.item_id is not None else None
    known = known_identifiers(session, item, account) if account is not None else []
    result = scrub_statement(row.body, known)
    messages = validate_statement(result.body)
    if result.body.get("puid") != row.puid:
        messages.append("puid: the body's puid differs from the statement's")
    return Prepared(
        statement_id=row.id,
        puid=row.puid,
        body=result.body,
        problems=tuple(_problem(row.puid, m) for m in messages),
        scrubbed=tuple(result.fields),
    )


def statements_query(
    *, since: date | None = None, unsubmitted: bool = True
) -> Select[StatementOfReasons]:
    """Statements in export order; ``unsubmitted`` keeps those still pending submission."""
    stmt = select(StatementOfReasons)
    if since is not None:
        stmt = stmt.where(StatementOfReasons.issued_at >= datetime.combine(since, time(), UTC))
    if unsubmitted:
        stmt = stmt.where(StatementOfReasons.submission_status == PENDING)
    return stmt.order_by(StatementOfReasons.issued_at, StatementOfReasons.id)


def batches(items: Iterable[T], size: int = BATCH_SIZE) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items."""
    if not 1 <= size <= BATCH_SIZE:
        raise ValueError(f"size: {size} is outside 1..{BATCH_SIZE}")
    chunk: list[T] = []
    for entry in items:
        chunk.append(entry)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def submission_payload(bodies: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The batch endpoint's request body."""
    if not 1 <= len(bodies) <= BATCH_SIZE:
        raise ValueError(f"statements: {len(bodies)} given, the endpoint takes 1..{BATCH_SIZE}")
    return {"statements": list(bodies)}


@dataclass
class ExportReport:
    files: list[Path] = field(default_factory=list)
    exported: int = 0
    problems: list[Problem] = field(default_factory=list)
    scrubbed: dict[str, tuple[str, ...]] = field(default_factory=dict)  # puid -> fields

    @property
    def failed(self) -> list[str]:
        return sorted({p.puid for p in self.problems})


def count_statements(
    session: Session, *, since: date | None = None, unsubmitted: bool = True
) -> int:
    query = statements_query(since=since, unsubmitted=unsubmitted).order_by(None)
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def export_statements(
    session: Session,
    out: Path,
    *,
    since: date | None = None,
    unsubmitted: bool = True,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> ExportReport:
    """Write the selected statements to ``out`` as batch files; ``progress(n)`` after each n read.

    Refuses a folder that already holds an export, so no stale batch is mixed in.
    """
    out.mkdir(parents=True, exist_ok=True)
    if any(out.glob("statements-*.json")):
        raise FileExistsError(f"out: {out} already holds an export; choose an empty folder")
    report = ExportReport()

    def ready() -> Iterator[Prepared]:
        query = statements_query(since=since, unsubmitted=unsubmitted)
        for row in session.scalars(query.execution_options(yield_per=500)):
            prepared = prepare(session, row)
            if progress is not None:
                progress(1)
            if prepared.scrubbed:
                report.scrubbed[prepared.puid] = prepared.scrubbed
            if prepared.ok:
                yield prepared
            else:
                report.problems.extend(prepared.problems)

    for number, chunk in enumerate(batches(ready(), batch_size), start=1):
        path = out / FILE_PATTERN.format(number)
        payload = submission_payload([p.body for p in chunk])
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        report.files.append(path)
        report.exported += len(chunk)
    return report
