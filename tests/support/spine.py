"""Helpers that build small, readable scenarios for spine tests."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from vigil.banks.services import import_file
from vigil.pipeline import ScanContext
from vigil.policy import services as policy_services
from vigil.unit_of_work import unit_of_work

BASE_TIME = "2026-10-01T12:00:00+00:00"


def item(pid: str, text: str | None = "hello world", **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": pid,
        "kind": "post",
        "author_id": extra.pop("author_id", "acct-1"),
        "author_country": extra.pop("author_country", "DE"),
        "created_at": BASE_TIME,
        "language": "en",
    }
    if text is not None:
        record["text"] = text
    record.update(extra)
    return record


def write_jsonl(path: Path, records: Iterable[dict[str, Any] | str]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    return path


def add_bank(
    engine: Engine, tmp: Path, name: str, kind: str, category: str, values: Iterable[str]
) -> None:
    path = tmp / f"{name}.txt"
    path.write_text("\n".join(values) + "\n", encoding="utf-8")
    with unit_of_work(engine) as uow:
        import_file(uow, path, name, kind=kind, category=category, source="test")


def context(engine: Engine, policy_path: Path | None = None) -> ScanContext:
    policy, source = policy_services.load_active(policy_path)
    with unit_of_work(engine) as uow:
        version_id = policy_services.activate(uow, policy, source).id
    with Session(engine) as session:
        return ScanContext.load(session, policy, version_id)
