"""A rescan that stops part-way resumes after its last committed chunk and duplicates nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.support.banks import events, make_bank
from tests.support.rescans import ingest, jobs
from vigil import pipeline
from vigil.actions.models import Action
from vigil.audit.services import verify
from vigil.cases.models import Case
from vigil.db import make_engine
from vigil.policy.models import Verdict
from vigil.rescans import services as rescans
from vigil.rescans.models import Rescan
from vigil.rescans.services import RescanReport, activate_policy, run_rescan
from vigil.signals.models import Signal
from vigil.statements.models import StatementOfReasons

HIT, MISS = "a1" * 32, "b2" * 32


def _items(n: int) -> list[dict[str, Any]]:
    from tests.support.spine import item

    return [
        item(f"p{i}", f"synthetic post {i}", media=[{"sha256": HIT if i % 4 else MISS}])
        for i in range(n)
    ]


def _per_item(engine: Engine) -> dict[str, Counter[int]]:
    """How many rows each item has, per table: every count must be exactly one."""
    with Session(engine) as s:
        return {
            t.__tablename__: Counter(i for i in s.scalars(select(t.item_id)).all() if i is not None)
            for t in (Signal, Verdict, Action, StatementOfReasons, Case)
        }


class StopError(Exception):
    pass


def test_stopped_after_a_chunk_and_failing_inside_one_then_resumed(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(engine, tmp_path, _items(40))  # 30 hits
    make_bank(engine, "terror", "sha256", "terrorism", [HIT])
    (job,) = jobs(engine)
    policy = activate_policy(engine)

    def stop(report: RescanReport) -> None:
        raise StopError

    with pytest.raises(StopError):
        run_rescan(engine, job.id, policy, chunk_size=7, on_chunk=stop)
    (stopped,) = jobs(engine)
    assert (stopped.status, stopped.items_scanned, stopped.signals) == ("running", 7, 7)
    assert sum(_per_item(engine)["signals"].values()) == 7

    # A failure inside the second chunk rolls back everything that chunk did.
    calls = 0
    real = pipeline.decide_items

    def failing(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise StopError
        real(*args)

    monkeypatch.setattr(rescans, "decide_items", failing)
    with pytest.raises(StopError):
        run_rescan(engine, job.id, policy, chunk_size=7)
    monkeypatch.setattr(rescans, "decide_items", real)
    (again,) = jobs(engine)
    assert (again.status, again.items_scanned, again.signals) == ("running", 14, 14)

    done = run_rescan(engine, job.id, policy, chunk_size=7)
    assert (done.status, done.items_scanned, done.signals, done.actions) == (
        "finished",
        30,
        30,
        30,
    )
    counts = _per_item(engine)
    for table in ("signals", "verdicts", "actions", "statements_of_reasons"):
        assert len(counts[table]) == 30, table
        assert set(counts[table].values()) == {1}, table
    assert counts["cases"] == Counter()
    types = [t for t, _, _ in events(engine, "rescan.")]
    assert types.count("rescan.started") == 1
    assert types.count("rescan.resumed") == 2
    assert types.count("rescan.progressed") == 5  # 30 items in chunks of 7
    assert types[-1] == "rescan.finished"
    with Session(engine) as s:
        assert verify(s).ok


def _cursor(db_url: str) -> tuple[str, int]:
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            row = s.execute(select(Rescan.status, Rescan.cursor_item_id)).one()
            return str(row.status), int(row.cursor_item_id)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_sigkill_mid_rescan_then_rerun_raises_everything_once(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    n = 1200
    ingest(engine, tmp_path, _items(n))
    # Known CSAM: every match opens a case for review within the hour.
    make_bank(engine, "csam", "sha256", "child_sexual_exploitation", [HIT])
    cmd = [sys.executable, "-m", "vigil", "--db", db_url, "bank", "rescan", "--chunk-size", "5"]
    env = {**os.environ, "COLUMNS": "120"}
    kills = 0
    for _ in range(2):
        before = _cursor(db_url)[1]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        deadline = time.monotonic() + 120
        while _cursor(db_url)[1] == before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills == 2, "the rescan finished before it could be killed; raise n"
    status, cursor = _cursor(db_url)
    assert status == "running"
    assert 0 < cursor < n
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "900 signals" in done.stdout
    counts = _per_item(engine)
    for table in ("signals", "verdicts", "cases"):
        assert len(counts[table]) == n * 3 // 4, table
        assert set(counts[table].values()) == {1}, table
    with Session(engine) as s:
        job = s.scalars(select(Rescan)).one()
        assert (job.status, job.signals, job.cases_opened) == ("finished", 900, 900)
        opened = s.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.category == "child_sexual_exploitation")
        )
        assert opened == 900
        assert verify(s).ok
    engine.dispose()
