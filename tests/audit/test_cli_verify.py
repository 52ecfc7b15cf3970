"""``vigil audit verify`` and ``vigil audit tail`` on a log written by a CLI ingest (SQLite)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from tests.support.spine import item, write_jsonl
from vigil.audit.models import Event
from vigil.cli import app
from vigil.db import make_engine

runner = CliRunner()


def _vigil(db: str, *args: str) -> Result:
    return runner.invoke(app, ["--db", db, *args])


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    terms = tmp_path / "terms.txt"
    terms.write_text("i will hurt you\n")
    r = _vigil(url, "bank", "import", str(terms), "-b", "t", "-k", "term", "-c", "threat_to_life")
    assert r.exit_code == 0, r.output
    records = [
        item("a", "[SYNTHETIC TEST CONTENT] i will hurt you"),
        item("b", "nothing to see"),
        item("c", "more harmless words"),
    ]
    r = _vigil(url, "ingest", str(write_jsonl(tmp_path / "items.jsonl", records)))
    assert r.exit_code == 0, r.output
    return url


def _events(db: str) -> list[tuple[int, str, str]]:
    engine = make_engine(db)
    try:
        with Session(engine) as s:
            return [tuple(r) for r in s.execute(select(Event.seq, Event.type, Event.body))]  # type: ignore[misc]
    finally:
        engine.dispose()


def _execute(db: str, sql: str, **params: object) -> None:
    engine = make_engine(db)
    try:
        with engine.begin() as conn:
            assert conn.execute(text(sql), params).rowcount == 1
    finally:
        engine.dispose()


def test_intact_log_verifies(db: str) -> None:
    events = _events(db)
    r = _vigil(db, "audit", "verify")
    assert r.exit_code == 0, r.output
    assert f"ok: {len(events):,} events, chain intact" in r.output


def test_altered_body_is_named(db: str) -> None:
    events = _events(db)
    seq, body = next((seq, body) for seq, type_, body in events if type_ == "item.ingested")
    assert seq < len(events)  # not the last event: later events still chain correctly
    tampered = body.replace('"kind":"post"', '"kind":"comment"')
    assert tampered != body
    _execute(db, "UPDATE events SET body = :b WHERE seq = :s", b=tampered, s=seq)
    r = _vigil(db, "audit", "verify")
    assert r.exit_code == 1
    output = " ".join(r.output.split())
    assert f"FAILED: event #{seq} was altered" in output
    assert re.findall(r"#(\d+)", output) == [str(seq)]


def test_altered_type_column_is_named(db: str) -> None:
    events = _events(db)
    seq = next(seq for seq, type_, _ in events if type_ == "item.scanned")
    _execute(db, "UPDATE events SET type = 'item.ignored' WHERE seq = :s", s=seq)
    r = _vigil(db, "audit", "verify")
    assert r.exit_code == 1
    output = " ".join(r.output.split())
    assert f"event #{seq} was altered: its type column no longer matches the hashed body" in output


def test_tail_shows_the_newest_rows(db: str) -> None:
    events = _events(db)
    r = _vigil(db, "audit", "tail", "-n", "3")
    assert r.exit_code == 0, r.output
    seqs = [int(m) for m in re.findall(r"^\s*│\s*(\d+)\s*│", r.stdout, flags=re.MULTILINE)]
    newest = [seq for seq, _, _ in events][-3:]
    assert seqs == newest
    types = {seq: type_ for seq, type_, _ in events}
    for seq in newest:
        row = next(line for line in r.stdout.splitlines() if re.match(rf"^\s*│\s*{seq}\s*│", line))
        assert types[seq] in row
