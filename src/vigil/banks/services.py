"""Banks: create, tune, switch on and off, import and export entries, with provenance.

Every change is an event in the same transaction. Entries are never deleted:
they are disabled with a reason and can be enabled again, so signals raised
in the past keep pointing at the entry that raised them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.banks.formats import (
    TE_BENIGN,
    BankFileError,
    Format,
    RawEntry,
    read_entries,
    write_entries,
)
from vigil.banks.models import DEFAULT_PDQ_THRESHOLD, PDQ_BITS, Bank, BankEntry, BankKind
from vigil.banks.normalize import NormaliseError, normalise_entry
from vigil.rescans import queue as rescans
from vigil.unit_of_work import UnitOfWork

MAX_FIELD = 200  # external_id and source columns


class BankError(ValueError):
    pass


@dataclass
class ImportResult:
    bank: str
    added: int = 0
    already_present: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    # The job that will match the new entries against items stored before them.
    rescan_id: int | None = None


@dataclass(frozen=True)
class BankSummary:
    bank: Bank
    entries: int
    enabled_entries: int


def _check_settings(
    kind: str, threshold: int | None, rollout: float | None, match_transforms: bool
) -> None:
    if threshold is not None:
        if kind != BankKind.PDQ:
            raise BankError("--threshold applies only to pdq banks (a Hamming distance)")
        if not 0 <= threshold <= PDQ_BITS:
            raise BankError(f"threshold must be between 0 and {PDQ_BITS} bits, not {threshold}")
    if rollout is not None and not 0.0 <= rollout <= 1.0:
        raise BankError(f"rollout must be between 0 and 1 (a share of items), not {rollout}")
    if match_transforms and kind != BankKind.PDQ:
        raise BankError("--transforms applies only to pdq banks")


def create_bank(
    uow: UnitOfWork,
    name: str,
    *,
    kind: str,
    category: str,
    source: str = "local",
    description: str | None = None,
    threshold: int | None = None,
    rollout: float = 1.0,
    negative: bool = False,
    match_transforms: bool = False,
) -> Bank:
    if not name.strip() or len(name) > 100:
        raise BankError("a bank name needs 1 to 100 characters")
    if len(source) > MAX_FIELD:
        raise BankError(f"source is longer than {MAX_FIELD} characters")
    if kind not in set(BankKind):
        raise BankError(f"unknown bank kind {kind!r}; expected one of {', '.join(BankKind)}")
    if uow.session.scalar(select(Bank.id).where(Bank.name == name)) is not None:
        raise BankError(f"bank {name!r} already exists")
    _check_settings(kind, threshold, rollout, match_transforms)
    if kind == BankKind.PDQ and threshold is None:
        threshold = DEFAULT_PDQ_THRESHOLD
    bank = Bank(
        name=name,
        kind=kind,
        category=category,
        source=source,
        description=description,
        enabled=True,
        created_at=uow.now(),
        threshold=threshold,
        rollout=rollout,
        negative=negative,
        match_transforms=match_transforms,
    )
    uow.session.add(bank)
    uow.session.flush()
    uow.log.record(
        "bank.created",
        f"bank:{bank.id}",
        {
            "name": name,
            "kind": kind,
            "category": category,
            "source": source,
            "threshold": threshold,
            "rollout": rollout,
            "negative": negative,
            "match_transforms": match_transforms,
        },
    )
    return bank


def get_bank(session: Session, name: str) -> Bank:
    bank = session.scalar(select(Bank).where(Bank.name == name))
    if bank is None:
        raise BankError(f"no bank named {name!r}")
    return bank


def get_entry(session: Session, bank_name: str, entry_id: int) -> tuple[Bank, BankEntry]:
    bank = get_bank(session, bank_name)
    entry = session.get(BankEntry, entry_id)
    if entry is None or entry.bank_id != bank.id:
        raise BankError(f"bank {bank_name!r} has no entry {entry_id}")
    return bank, entry


def reason_digest(reason: str) -> str:
    """Operator free text goes into the chain as a digest; the row keeps the text."""
    return hashlib.sha256(reason.strip().encode("utf-8")).hexdigest()


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
    return create_bank(
        uow, name, kind=kind, category=category, source=source, description=description
    )


def set_bank_enabled(uow: UnitOfWork, name: str, enabled: bool) -> bool:
    """Switch a bank on or off; ``False`` when it already was."""
    bank = get_bank(uow.session, name)
    if bank.enabled == enabled:
        return False
    bank.enabled = enabled
    uow.session.flush()
    uow.log.record(f"bank.{'enabled' if enabled else 'disabled'}", f"bank:{bank.id}", {})
    return True


def update_bank(
    uow: UnitOfWork, name: str, *, threshold: int | None = None, rollout: float | None = None
) -> dict[str, list[Any]]:
    """Change a bank's threshold or roll-out; returns ``{setting: [old, new]}``."""
    bank = get_bank(uow.session, name)
    _check_settings(bank.kind, threshold, rollout, False)
    changes: dict[str, list[Any]] = {}
    if threshold is not None and threshold != bank.threshold:
        changes["threshold"] = [bank.threshold, threshold]
        bank.threshold = threshold
    if rollout is not None and rollout != bank.rollout:
        changes["rollout"] = [bank.rollout, rollout]
        bank.rollout = rollout
    if changes:
        uow.session.flush()
        uow.log.record("bank.settings_changed", f"bank:{bank.id}", {"changes": changes})
    return changes


def set_entry_enabled(
    uow: UnitOfWork, bank_name: str, entry_id: int, enabled: bool, *, reason: str | None = None
) -> bool:
    """Withdraw an entry (with a reason) or restore it; ``False`` when nothing changed."""
    bank, entry = get_entry(uow.session, bank_name, entry_id)
    if not enabled and not (reason or "").strip():
        raise BankError("give a --reason for disabling the entry")
    if entry.enabled == enabled:
        return False
    entry.enabled = enabled
    payload: dict[str, Any] = {"bank_entry_id": entry.id}
    if enabled:
        entry.disabled_at, entry.disabled_reason = None, None
    else:
        assert reason is not None
        entry.disabled_at, entry.disabled_reason = uow.now(), reason.strip()
        payload["reason_sha256"] = reason_digest(reason)
    uow.session.flush()
    event = "bank.entry_enabled" if enabled else "bank.entry_disabled"
    uow.log.record(event, f"bank:{bank.id}", payload)
    if enabled:
        # Items stored while the entry was withdrawn were never matched against it.
        rescans.queue_rescan(uow, bank, entry.id, entry.id, "entry_enabled")
    return True


def _entry_problem(bank: Bank, raw: RawEntry) -> str | None:
    if raw.error:
        return raw.error
    if raw.kind is not None and raw.kind != bank.kind:
        return (
            f"a {raw.kind} entry cannot go into bank {bank.name!r}, which holds {bank.kind} entries"
        )
    if raw.opinion == TE_BENIGN and not bank.negative:
        return f"marked {TE_BENIGN} (known-benign); import it into a negative bank"
    if raw.opinion not in (None, TE_BENIGN) and bank.negative:
        return f"marked {raw.opinion}; a negative bank holds only known-benign content"
    for name, value in (("external_id", raw.external_id), ("source", raw.source)):
        if value is not None and len(value) > MAX_FIELD:
            return f"{name} is longer than {MAX_FIELD} characters"
    return None


def import_entries(uow: UnitOfWork, bank: Bank, entries: Iterable[RawEntry]) -> ImportResult:
    """Add entries not yet in the bank; bad lines are reported, never fatal."""
    result = ImportResult(bank=bank.name)
    existing = set(uow.session.scalars(select(BankEntry.value).where(BankEntry.bank_id == bank.id)))
    now = uow.now()
    new_rows: list[BankEntry] = []
    for raw in entries:
        problem = _entry_problem(bank, raw)
        if problem is None:
            try:
                value = normalise_entry(bank.kind, raw.value)
            except NormaliseError as exc:
                problem = str(exc)
        if problem is not None:
            result.rejected.append((raw.line, problem))
            continue
        if value in existing:
            result.already_present += 1
            continue
        existing.add(value)
        new_rows.append(
            BankEntry(
                bank_id=bank.id,
                value=value,
                source=raw.source or bank.source,
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
        ids = [r.id for r in new_rows]
        job = rescans.queue_rescan(uow, bank, min(ids), max(ids), "import")
        result.rescan_id = job.id if job is not None else None
    return result


def import_file(
    uow: UnitOfWork,
    path: Path,
    name: str,
    *,
    kind: str | None = None,
    category: str | None = None,
    source: str = "local",
    fmt: Format | None = None,
) -> ImportResult:
    bank = get_or_create_bank(uow, name, kind=kind, category=category, source=source)
    try:
        return import_entries(uow, bank, read_entries(path, fmt))
    except BankFileError as exc:
        raise BankError(str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise BankError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def export_bank(session: Session, name: str, fh: TextIO, fmt: Format) -> int:
    """Write the bank's enabled entries (oldest first); returns how many."""
    bank = get_bank(session, name)
    entries = session.scalars(
        select(BankEntry)
        .where(BankEntry.bank_id == bank.id, BankEntry.enabled.is_(True))
        .order_by(BankEntry.id)
    )
    try:
        return write_entries(fh, bank, entries, fmt)
    except BankFileError as exc:
        raise BankError(str(exc)) from exc


def list_banks(uow: UnitOfWork) -> list[BankSummary]:
    rows = uow.session.execute(
        select(
            Bank,
            func.count(BankEntry.id),
            func.count(BankEntry.id).filter(BankEntry.enabled.is_(True)),
        )
        .outerjoin(BankEntry, BankEntry.bank_id == Bank.id)
        .group_by(Bank.id)
        .order_by(Bank.name)
    )
    return [BankSummary(bank, int(total), int(enabled)) for bank, total, enabled in rows]


def newest_entries(session: Session, bank: Bank, limit: int = 20) -> list[BankEntry]:
    return list(
        session.scalars(
            select(BankEntry)
            .where(BankEntry.bank_id == bank.id)
            .order_by(BankEntry.id.desc())
            .limit(limit)
        )
    )
