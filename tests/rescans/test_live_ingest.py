"""Entries imported while an ingest runs: no item falls between the live index and the rescan."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.support.banks import make_bank
from tests.support.rescans import jobs, run_all, signals_by_item
from tests.support.spine import context, item, write_jsonl
from vigil.banks.formats import RawEntry
from vigil.banks.services import get_bank, import_entries
from vigil.ingest.services import IngestSummary, ingest_file
from vigil.signals.refresh import IndexUpdater
from vigil.unit_of_work import unit_of_work

FILE = hashlib.sha256(b"benign stand-in file for a live-ingest rescan test").hexdigest()


def _run(engine: Engine, tmp_path: Path, *, stretch: bool) -> dict[str, list[tuple[str, str]]]:
    make_bank(engine, "files", "sha256", "terrorism", ["ab" * 32])
    records = [
        item(f"p{i}", "a photo", media=[{"sha256": FILE, "url": f"https://cdn.example/{i}"}])
        for i in range(8)
    ]
    path = write_jsonl(tmp_path / "items.jsonl", records)
    ctx = context(engine)
    with Session(engine) as session:
        updater = IndexUpdater(ctx.index, ctx.index_seq)
        updater.poll(session)

    def after_batch(summary: IngestSummary) -> None:
        if summary.batches == 1:
            # The import queues a job over the items stored so far (p0, p1) ...
            with unit_of_work(engine) as uow:
                bank = get_bank(uow.session, "files")
                import_entries(uow, bank, [RawEntry(1, FILE)])
        elif summary.batches == 2:
            # ... but the running index only takes the entry in after p2 and p3 were scanned.
            with Session(engine) as session:
                updater.poll(session)

    summary = ingest_file(
        engine,
        path,
        ctx,
        batch_size=2,
        on_batch=after_batch,
        updater=updater if stretch else None,
    )
    assert summary.rescans_stretched == (1 if stretch else 0)
    run_all(engine)
    return signals_by_item(engine)


def test_a_running_ingest_stretches_the_job_over_what_it_stored_meanwhile(
    engine: Engine, tmp_path: Path
) -> None:
    found = _run(engine, tmp_path, stretch=True)
    assert found == {f"p{i}": [("files", "sha256")] for i in range(8)}
    (job,) = jobs(engine)
    assert job.status == "finished"
    assert job.upto_item_id >= 6  # reaches the items stored after the job was queued


def test_without_stretching_the_gap_is_real(engine: Engine, tmp_path: Path) -> None:
    # The control: the same run without handing entries to the job misses p2 and p3.
    found = _run(engine, tmp_path, stretch=False)
    assert sorted(found) == ["p0", "p1", "p4", "p5", "p6", "p7"]
