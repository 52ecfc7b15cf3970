"""A run killed with SIGKILL part-way and run again stores every record exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.support.spine import item, write_jsonl
from vigil.audit.models import Event
from vigil.audit.services import verify
from vigil.db import make_engine
from vigil.items.models import Item

N = 6000


def _ingest_cmd(db_url: str, path: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "vigil",
        "--db",
        db_url,
        "ingest",
        str(path),
        "--batch-size",
        "100",
    ]


def _stored(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            return int(s.scalar(select(func.count()).select_from(Item)) or 0)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_stores_each_record_once(db_url: str, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "items.jsonl",
        [
            item(f"p{i}", f"post {i} about the weather", author_id=f"acct-{i % 97}")
            for i in range(N)
        ],
    )
    env = {**os.environ, "COLUMNS": "120"}
    kills = 0
    for _ in range(3):
        # Kill each run as soon as it has committed something new: always mid-file.
        before = _stored(db_url)
        proc = subprocess.Popen(
            _ingest_cmd(db_url, path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
        )
        deadline = time.monotonic() + 120
        while _stored(db_url) == before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills == 3, "a run finished before it could be killed; raise N"
    assert 0 < _stored(db_url) < N
    done = subprocess.run(
        _ingest_cmd(db_url, path), capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    engine = make_engine(db_url)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Item)) == N
        assert s.scalar(select(func.count(func.distinct(Item.platform_item_id)))) == N
        ingested = s.scalar(
            select(func.count()).select_from(Event).where(Event.type == "item.ingested")
        )
        scanned = s.scalar(
            select(func.count()).select_from(Event).where(Event.type == "item.scanned")
        )
        assert ingested == N
        assert scanned == N
        assert verify(s).ok
    engine.dispose()
