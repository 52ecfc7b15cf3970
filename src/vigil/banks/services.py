"""Creating banks and importing entries from plain lists or CSV, with provenance."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from vigil.banks.models import Bank, BankEntry, BankKind
from vigil.banks.normalize import NormaliseError, normalise_entry
from vigil.unit_of_work import UnitOfWork


class BankError(ValueError):
    pass


@dataclass
class ImportResult:
    bank: str
    added: int = 0
    already_present: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def get_or_create_bank(
    uow: UnitOfWork,
    name: str,
    *,
    kind: str | None = None,
    category: str | None = None,
    source: str = "local",
    description: str | None = None,
) -> Bank:
    bank = uow.session.scalar(select(Bank).where(Bank.name == name))
    if bank is not None:
        if kind is not None and bank.kind != kind:
            raise BankError(f"bank {name!r} holds {bank.kind} entries, not {kind}")
        return bank
    if kind is None or category is None:
        raise BankError(f"bank {name!r} does not exist; give --kind and --category to create it")
    if kind not in set(BankKind):
        raise BankError(f"unknown bank kind {kind!r}; expected one of {', '.join(BankKind)}")
    bank = Bank(
        name=name,
        kind=kind,
        category=category,
        source=source,
        description=description,
        enabled=True,
        created_at=uow.now(),
    )
    uow.session.add(bank)
    uow.session.flush()
    uow.log.record(
        "bank.created",
        f"bank:{bank.id}",
        {"name": name, "kind": kind, "category": category, "source": source},
    )
    return bank


@dataclass(frozen=True)
class RawEntry:
    line: int
    value: str
    external_id: str | None = None
    note: str | None = None
    tags: list[str] | None = None


def read_entries(path: Path) -> Iterator[RawEntry]:
    """Plain lists (one value a line, ``#`` comments) or CSV with a ``value`` column."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        first = fh.readline()
        fh.seek(0)
        if path.suffix.lower() == ".csv" or first.strip().lower().startswith("value,"):
            reader = csv.DictReader(fh)
            if "value" not in (reader.fieldnames or []):
                raise BankError(f"{path}: CSV needs a 'value' column")
            for row in reader:
                tags = [t for t in (row.get("tags") or "").split(";") if t]
                yield RawEntry(
                    reader.line_num,
                    row.get("value") or "",
                    row.get("external_id") or None,
                    row.get("note") or None,
                    tags or None,
                )
            return
        for number, line in enumerate(fh, start=1):
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                yield RawEntry(number, stripped)


def import_entries(uow: UnitOfWork, bank: Bank, entries: Iterator[RawEntry]) -> ImportResult:
    """Add entries not yet in the bank; bad lines are reported, never fatal."""
    result = ImportResult(bank=bank.name)
    existing = set(uow.session.scalars(select(BankEntry.value).where(BankEntry.bank_id == bank.id)))
    now = uow.now()
    new_rows: list[BankEntry] = []
    for raw in entries:
        try:
            value = normalise_entry(bank.kind, raw.value)
        except NormaliseError as exc:
            result.rejected.append((raw.line, str(exc)))
            continue
        if value in existing:
            result.already_present += 1
            continue
        existing.add(value)
        new_rows.append(
            BankEntry(
                bank_id=bank.id,
                value=value,
                external_id=raw.external_id,
                note=raw.note,
                tags=raw.tags,
                added_at=now,
                enabled=True,
            )
        )
    uow.session.add_all(new_rows)
    uow.session.flush()
    result.added = len(new_rows)
    if new_rows:
        uow.log.record(
            "bank.entries_added",
            f"bank:{bank.id}",
            {
                "count": len(new_rows),
                "first_entry_id": new_rows[0].id,
                "last_entry_id": new_rows[-1].id,
            },
        )
    return result


def import_file(
    uow: UnitOfWork,
    path: Path,
    name: str,
    *,
    kind: str | None = None,
    category: str | None = None,
    source: str = "local",
) -> ImportResult:
    bank = get_or_create_bank(uow, name, kind=kind, category=category, source=source)
    return import_entries(uow, bank, read_entries(path))


def list_banks(uow: UnitOfWork) -> list[tuple[Bank, int]]:
    from sqlalchemy import func

    rows = uow.session.execute(
        select(Bank, func.count(BankEntry.id))
        .outerjoin(BankEntry, BankEntry.bank_id == Bank.id)
        .group_by(Bank.id)
        .order_by(Bank.name)
    )
    return [(bank, int(count)) for bank, count in rows]
