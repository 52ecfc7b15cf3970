"""Line-numbered records from JSONL or CSV; a bad line becomes a reject, never an exception."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from vigil.items.schemas import ItemRecord, NoticeRecord

Record = ItemRecord | NoticeRecord
_MEDIA_COLUMNS = ("url", "data_b64", "md5", "sha256", "pdq", "pdq_quality", "mime")


@dataclass(frozen=True)
class Parsed:
    line: int
    record: Record | None
    error: str | None
    raw: str


def describe(exc: ValidationError) -> str:
    """``field.path: message`` for every problem Pydantic found."""
    parts = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "record"
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def validate(data: Any) -> Record:
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    if data.get("record", "item") == "notice":
        return NoticeRecord.model_validate(data)
    return ItemRecord.model_validate(data)


def _parse(line: int, data: Any, raw: str) -> Parsed:
    try:
        return Parsed(line, validate(data), None, raw)
    except ValidationError as exc:
        return Parsed(line, None, describe(exc), raw)
    except ValueError as exc:
        return Parsed(line, None, str(exc), raw)


class _ByteCounter:
    """Iterates a binary file as text lines while counting bytes for the progress bar."""

    def __init__(self, path: Path, on_bytes: Callable[[int], None] | None) -> None:
        self.path = path
        self.on_bytes = on_bytes

    def __iter__(self) -> Iterator[str]:
        with self.path.open("rb") as fh:
            for number, raw in enumerate(fh):
                if self.on_bytes:
                    self.on_bytes(len(raw))
                # utf-8-sig on the first line drops the byte-order mark spreadsheets write.
                yield raw.decode("utf-8-sig" if number == 0 else "utf-8", errors="replace")


def read_jsonl(path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Parsed]:
    for number, text in enumerate(_ByteCounter(path, on_bytes), start=1):
        stripped = text.strip()
        if not stripped:
            continue
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            yield Parsed(number, None, f"invalid JSON: {exc.msg} at column {exc.colno}", stripped)
            continue
        yield _parse(number, data, stripped)


def csv_row_to_record(row: dict[str, str | None]) -> dict[str, Any]:
    """Flat CSV columns to the record shape: empty cells are absent, ``urls`` space-separated,
    ``media_*`` columns one media entry."""
    data: dict[str, Any] = {}
    media: dict[str, str] = {}
    for key, value in row.items():
        if key is None or value is None or value == "":
            continue
        key = key.strip()
        if key.startswith("media_") and key[6:] in _MEDIA_COLUMNS:
            media[key[6:]] = value
        elif key == "urls":
            data["urls"] = value.split()
        else:
            data[key] = value
    if media:
        data["media"] = [media]
    return data


def read_csv(path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Parsed]:
    reader = csv.DictReader(_ByteCounter(path, on_bytes))
    for row in reader:
        number = reader.line_num
        if None in row:
            yield Parsed(
                number, None, "more cells than header columns", json.dumps(row, default=str)
            )
            continue
        if not any(row.values()):
            continue
        yield _parse(number, csv_row_to_record(row), json.dumps(row))


def read_records(path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Parsed]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path, on_bytes)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return read_jsonl(path, on_bytes)
    raise ValueError(f"{path}: unknown format {suffix!r}; use .jsonl or .csv")
