"""Ingest a file: validate each line, process valid records in batches, write rejects.

Each batch is one transaction (see ``vigil.pipeline``). Platform ids make a
re-run idempotent: records already stored are counted as duplicates and skipped,
so a run killed part-way and started again stores every record exactly once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from vigil.db.base import utcnow
from vigil.ingest.readers import Parsed, read_records
from vigil.items.schemas import ItemRecord, NoticeRecord
from vigil.pipeline import BatchOutcome, ScanContext, process_batch
from vigil.policy import services as policy_services
from vigil.rescans.queue import extend_rescans
from vigil.signals.refresh import IndexUpdater
from vigil.unit_of_work import unit_of_work


@dataclass
class IngestSummary:
    path: Path
    rejects_path: Path
    lines: int = 0
    batches: int = 0
    outcome: BatchOutcome = field(default_factory=BatchOutcome)
    elapsed_s: float = 0.0
    stretched_rescans: list[int] = field(default_factory=list)  # job ids, once each

    @property
    def rescans_stretched(self) -> int:
        return len(self.stretched_rescans)

    @property
    def rejected(self) -> int:
        return len(self.outcome.rejected)


def default_rejects_path(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.jsonl")


def ingest_file(
    engine: Engine,
    path: Path,
    ctx: ScanContext,
    *,
    batch_size: int = 1000,
    rejects_path: Path | None = None,
    on_bytes: Callable[[int], None] | None = None,
    on_batch: Callable[[IngestSummary], None] | None = None,
    updater: IndexUpdater | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> IngestSummary:
    """Ingest one file; with ``updater`` (the run's live index), bank entries that reach the
    index mid-run stretch their rescan jobs over the items stored before they did.

    Notices refused at intake (a notifier limited under DSA Art. 23) are rejects
    too, each with its reason; ``clock`` is the time each batch is stored at."""
    rejects_path = rejects_path or default_rejects_path(path)
    summary = IngestSummary(path, rejects_path)
    started = time.perf_counter()
    with rejects_path.open("w", encoding="utf-8") as rejects:
        items: list[ItemRecord] = []
        notices: list[tuple[int, NoticeRecord]] = []

        def flush() -> None:
            if not items and not notices:
                return
            with unit_of_work(engine, clock) as uow:
                outcome = process_batch(uow, ctx, items, notices)
            for line, reason in outcome.rejected:
                rejects.write(json.dumps({"line": line, "reason": reason}) + "\n")
            summary.outcome.add(outcome)
            summary.batches += 1
            items.clear()
            notices.clear()
            if updater is not None:
                _note_stretched(summary, stretch_rescans(engine, updater))
            if on_batch:
                on_batch(summary)

        for parsed in read_records(path, on_bytes):
            summary.lines += 1
            if parsed.record is None:
                _reject(rejects, parsed)
                summary.outcome.rejected.append((parsed.line, parsed.error or "invalid"))
                continue
            if isinstance(parsed.record, NoticeRecord):
                notices.append((parsed.line, parsed.record))
            else:
                items.append(parsed.record)
            if len(items) + len(notices) >= batch_size:
                flush()
        flush()
    if updater is not None:
        _note_stretched(summary, stretch_rescans(engine, updater))
    summary.elapsed_s = time.perf_counter() - started
    return summary


def _note_stretched(summary: IngestSummary, job_ids: list[int]) -> None:
    summary.stretched_rescans += [j for j in job_ids if j not in summary.stretched_rescans]


def stretch_rescans(engine: Engine, updater: IndexUpdater) -> list[int]:
    """Hand the entries the live index took in to their rescan jobs; returns the jobs' ids.

    Called between batches, in the ingest's own thread: every item committed so
    far may have been scanned without those entries, and every later batch is
    scanned with them.
    """
    added = updater.take_added()
    if not added:
        return []
    with unit_of_work(engine) as uow:
        return extend_rescans(uow, added)


def _withheld(raw: str) -> bool:
    """Private content is never written anywhere, not even to the rejects file."""
    try:
        data = json.loads(raw)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("audience", "public") != "public"


def _reject(fh: TextIO, parsed: Parsed) -> None:
    raw: str | None = parsed.raw if len(parsed.raw) <= 2000 else parsed.raw[:2000] + "…"
    if _withheld(parsed.raw):
        raw = None
    fh.write(
        json.dumps({"line": parsed.line, "reason": parsed.error, "raw": raw}, ensure_ascii=False)
        + "\n"
    )


def scan_context(engine: Engine, policy_path: Path | None) -> ScanContext:
    """Activate the policy (recording its version) and load the bank index."""
    policy, source = policy_services.load_active(policy_path)
    with unit_of_work(engine) as uow:
        version = policy_services.activate(uow, policy, source)
        version_id = version.id
    with Session(engine) as session:
        return ScanContext.load(session, policy, version_id)
