"""Bank files in and out: plain lists, CSV with provenance, and threatexchange's CSV.

``txt``  one value a line; ``#`` starts a comment line. Carries values only.
``csv``  columns ``value, external_id, note, tags, source`` (only ``value`` is
         required; tags are separated by ``;``). Carries every provenance field.
``te``   the CSV that python-threatexchange prints for a dataset
         (``threatexchange dataset --print-signals --csv``, see
         ``threatexchange/cli/dataset_cmd.py`` in facebook/ThreatExchange):
         ``collab, signal_type, signal_str, category, tags`` with tags separated
         by spaces. ``collab`` becomes the entry's source; ``category`` is the
         opinion: ``TRUE_POSITIVE`` or ``WORTH_INVESTIGATING`` for harmful
         content, ``FALSE_POSITIVE`` for known-benign content (negative banks).
         Carries values, sources and tags.

Text banks hold SHA-256 digests of normalised text and export them as
``sha256:<hex>``, which imports back as the same digest.
"""

from __future__ import annotations

import csv
import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from vigil.banks.models import Bank, BankEntry
from vigil.banks.normalize import TEXT_DIGEST_PREFIX


class BankFileError(ValueError):
    """A file that cannot be read or written as a whole (bad header, unsupported kind)."""


class Format(enum.StrEnum):
    TXT = "txt"
    CSV = "csv"
    TE = "te"


CSV_COLUMNS = ("value", "external_id", "note", "tags", "source")
TE_COLUMNS = ("collab", "signal_type", "signal_str", "category", "tags")

# threatexchange signal type names (SignalType.get_name()) -> Vigil bank kinds.
TE_IMPORT_TYPES = {
    "pdq": "pdq",
    "video_md5": "md5",
    "photo_md5": "md5",
    "md5": "md5",
    "video_sha256": "sha256",
    "photo_sha256": "sha256",
    "sha256": "sha256",
    "url": "url",
    "raw_text": "text",
}
TE_EXPORT_TYPES = {"pdq": "pdq", "md5": "video_md5", "sha256": "video_sha256", "url": "url"}
TE_HARMFUL = ("TRUE_POSITIVE", "WORTH_INVESTIGATING")
TE_BENIGN = "FALSE_POSITIVE"


@dataclass(frozen=True)
class RawEntry:
    """One entry as a file gives it, before normalisation."""

    line: int
    value: str
    external_id: str | None = None
    note: str | None = None
    tags: list[str] | None = None
    source: str | None = None
    kind: str | None = None  # the kind the file says the entry is (threatexchange files)
    opinion: str | None = None  # the file's opinion on it (threatexchange files)
    error: str | None = None  # why the reader could not use this line


def detect_format(path: Path) -> Format:
    """``te`` when the header names threatexchange's columns, ``csv`` for .csv or a ``value`` header."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = fh.readline().strip().lower()
    columns = {c.strip() for c in header.split(",")}
    if {"signal_type", "signal_str"} <= columns:
        return Format.TE
    if path.suffix.lower() == ".csv" or header.startswith("value,") or header == "value":
        return Format.CSV
    return Format.TXT


def read_entries(path: Path, fmt: Format | None = None) -> Iterator[RawEntry]:
    fmt = fmt or detect_format(path)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        if fmt is Format.TXT:
            yield from _read_txt(fh)
        elif fmt is Format.CSV:
            yield from _read_csv(fh, path)
        else:
            yield from _read_te(fh, path)


def _read_txt(fh: TextIO) -> Iterator[RawEntry]:
    for number, line in enumerate(fh, start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield RawEntry(number, stripped)


def _dict_reader(
    fh: TextIO, path: Path, known: tuple[str, ...], required: set[str]
) -> csv.DictReader[str]:
    reader = csv.DictReader(fh)
    columns = [c.strip() for c in reader.fieldnames or []]
    reader.fieldnames = columns
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise BankFileError(
            f"{path}:1: unknown column {unknown[0]!r}; expected some of {', '.join(known)}"
        )
    missing = sorted(required - set(columns))
    if missing:
        raise BankFileError(f"{path}:1: missing column {missing[0]!r}")
    return reader


def _read_csv(fh: TextIO, path: Path) -> Iterator[RawEntry]:
    reader = _dict_reader(fh, path, CSV_COLUMNS, {"value"})
    for row in reader:
        if None in row:
            yield RawEntry(reader.line_num, "", error="more fields than columns in the header")
            continue
        tags, error = _split_tags(row.get("tags") or "", ";")
        yield RawEntry(
            reader.line_num,
            row.get("value") or "",
            external_id=(row.get("external_id") or "").strip() or None,
            note=row.get("note") or None,
            tags=tags,
            source=(row.get("source") or "").strip() or None,
            error=error,
        )


def _read_te(fh: TextIO, path: Path) -> Iterator[RawEntry]:
    reader = _dict_reader(fh, path, TE_COLUMNS, {"signal_type", "signal_str"})
    for row in reader:
        line = reader.line_num
        signal_type = (row.get("signal_type") or "").strip()
        kind = TE_IMPORT_TYPES.get(signal_type)
        opinion = (row.get("category") or "").strip() or None
        error = None
        if kind is None:
            error = (
                f"unknown threatexchange signal type {signal_type!r}; "
                f"expected one of {', '.join(TE_IMPORT_TYPES)}"
            )
        elif opinion is not None and opinion not in (*TE_HARMFUL, TE_BENIGN):
            error = (
                f"unknown threatexchange category {opinion!r}; "
                f"expected {', '.join(TE_HARMFUL)} or {TE_BENIGN}"
            )
        yield RawEntry(
            line,
            row.get("signal_str") or "",
            tags=(row.get("tags") or "").split() or None,
            source=(row.get("collab") or "").strip() or None,
            kind=kind,
            opinion=opinion,
            error=error,
        )


def _split_tags(raw: str, separator: str) -> tuple[list[str] | None, str | None]:
    tags = [t.strip() for t in raw.split(separator) if t.strip()]
    for tag in tags:
        if any(c.isspace() for c in tag):
            return None, f"tag {tag!r} contains whitespace; tags are single words"
    return tags or None, None


def write_entries(fh: TextIO, bank: Bank, entries: Iterable[BankEntry], fmt: Format) -> int:
    """Write ``entries`` in ``fmt``; what a later import reads back as the same entries."""
    rows = list(entries)
    if fmt is Format.TXT:
        fh.write(f"# vigil bank {bank.name}: {bank.kind}, category {bank.category}\n")
        for e in rows:
            value = _exported_value(bank, e)
            if value != value.strip() or value.startswith("#") or "\n" in value:
                raise BankFileError(
                    f"entry {e.id} cannot be written as a plain list line (it starts with '#', "
                    "has surrounding spaces or a line break); use --format csv"
                )
            fh.write(value + "\n")
    elif fmt is Format.CSV:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for e in rows:
            tags = ";".join(e.tags or [])
            writer.writerow(
                [_exported_value(bank, e), e.external_id or "", e.note or "", tags, e.source]
            )
    else:
        signal_type = TE_EXPORT_TYPES.get(bank.kind)
        if signal_type is None:
            raise BankFileError(
                f"threatexchange has no signal type for {bank.kind} banks; use --format csv"
            )
        opinion = TE_BENIGN if bank.negative else TE_HARMFUL[0]
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(TE_COLUMNS)
        for e in rows:
            writer.writerow([e.source, signal_type, e.value, opinion, " ".join(e.tags or [])])
    return len(rows)


def _exported_value(bank: Bank, entry: BankEntry) -> str:
    return TEXT_DIGEST_PREFIX + entry.value if bank.kind == "text" else entry.value
