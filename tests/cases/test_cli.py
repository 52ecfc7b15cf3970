"""``vigil review`` end to end on SQLite: queue, claims, decisions, four-eyes, sweep and stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from tests.cases.support import HARASS, THREAT
from tests.support.spine import item, write_jsonl
from vigil.cases.models import Case
from vigil.cli import app
from vigil.db import make_engine

runner = CliRunner()


class Vigil:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.db = f"sqlite:///{tmp_path / 'cli.db'}"

    def __call__(self, *args: str, code: int = 0) -> Result:
        r = runner.invoke(app, ["--db", self.db, *args], env={"COLUMNS": "240"})
        assert r.exit_code == code, r.output
        return r

    def bank(self, name: str, category: str, term: str) -> None:
        path = self.tmp / f"{name}.txt"
        path.write_text(f"# synthetic\n{term}\n")
        self("bank", "import", str(path), "-b", name, "-k", "term", "-c", category)

    def ingest(self, name: str, *records: dict[str, object]) -> None:
        self("ingest", str(write_jsonl(self.tmp / name, list(records))))


@pytest.fixture
def vigil(tmp_path: Path) -> Vigil:
    v = Vigil(tmp_path)
    v.bank("threats", "threat_to_life", "i will hurt you")
    v.bank("harass", "harassment", "you absolute grobnit")
    v.ingest("items.jsonl", item("t1", THREAT), item("h1", HARASS, author_id="acct-2"))
    return v  # case 1: threat (1 h, four-eyes), case 2: harassment (24 h)


def test_claims_and_assignment(vigil: Vigil) -> None:
    r = vigil("review", "queue")
    assert "threat_to_life" in r.output
    assert "harassment" in r.output
    r = vigil("review", "claim", "--next", "-r", "alice")
    assert "claimed case 1 (threat_to_life, critical) held by alice" in r.output
    r = vigil("review", "claim", "1", "-r", "bob", code=1)
    assert "error: case #1 is held by alice" in r.output
    r = vigil("review", "queue", "--mine", "-r", "alice")
    assert "threat_to_life" in r.output
    assert "harassment" not in r.output
    vigil("review", "queue", "--mine", code=2)
    vigil("review", "claim", "-r", "bob", code=2)  # neither a case nor --next
    vigil("review", "release", "1", "-r", "bob", code=1)
    vigil("review", "release", "1", "-r", "alice")
    r = vigil("review", "assign", "2", "--to", "carol", "--by", "lead")
    assert "assigned case 2 to carol" in r.output
    r = vigil("review", "queue", "--mine", "-r", "carol")
    assert "harassment" in r.output
    assert "carol" in r.output
    r = vigil("review", "claim", "--next", "-r", "dave", "--category", "harassment")
    assert "Nothing to claim" in r.output


def test_decide_confirm_and_refuse(vigil: Vigil) -> None:
    r = vigil("review", "decide", "1", "-o", "violating", "-r", "alice", code=1)
    assert "clause:" in r.output
    r = vigil(
        "review",
        "decide",
        "1",
        "-o",
        "violating",
        "-r",
        "alice",
        "--clause",
        "threat_to_life",
        "--note",
        "internal",
        "--message",
        "you threatened someone",
    )
    assert "awaiting confirmation" in r.output
    assert "threat_to_life" not in vigil("review", "queue").output
    assert "threat_to_life" in vigil("review", "queue", "--confirmations", "-r", "bob").output
    assert "empty" in vigil("review", "queue", "--confirmations", "-r", "alice").output
    r = vigil("review", "confirm", "1", "-r", "alice", code=1)
    assert "different reviewer" in r.output
    r = vigil("review", "confirm", "1", "-r", "bob")
    assert "confirmed case 1: violating by alice, confirmed by bob" in r.output
    r = vigil(
        "review",
        "decide",
        "2",
        "-o",
        "violating",
        "-r",
        "carol",
        "--clause",
        "harassment",
        "-a",
        "remove_content",
        "-a",
        "restrict_visibility",
    )
    assert "decided case 2: violating, actions remove_content, restrict_visibility" in r.output
    vigil.ingest("more.jsonl", item("t2", THREAT, author_id="acct-3"))
    vigil("review", "decide", "3", "-o", "violating", "-r", "alice", "--clause", "threat_to_life")
    vigil("review", "refuse", "3", "-r", "bob", "--reason", "nonsense", code=2)
    r = vigil("review", "refuse", "3", "-r", "bob", "--reason", "wrong_clause", "--note", "quote")
    assert "back in the queue (wrong_clause)" in r.output
    assert "threat_to_life" in vigil("review", "queue").output
    r = vigil("audit", "verify")
    assert "chain intact" in r.output


def test_sweep_and_stats(vigil: Vigil, tmp_path: Path) -> None:
    engine = make_engine(vigil.db)
    with Session(engine) as s, s.begin():
        past = datetime.now(UTC) - timedelta(minutes=5)
        s.execute(update(Case).where(Case.id == 1).values(deadline_at=past))
    engine.dispose()
    assert "overdue" in vigil("review", "queue").output
    assert "1 case(s) newly past their deadline" in vigil("review", "sweep").output
    assert "0 case(s) newly past their deadline" in vigil("review", "sweep").output
    chart = tmp_path / "charts" / "queues.png"
    r = vigil("review", "stats", "--chart", str(chart))
    lines = [line for line in r.output.splitlines() if "threat_to_life" in line]
    assert len(lines) == 1
    # open 1, held 0, awaiting 0, overdue 1, missed 1
    assert lines[0].split()[2:7] == ["1", "0", "0", "1", "1"]
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    r = vigil("review", "stats", "--chart", str(tmp_path / "queues.txt"), code=2)
    assert "--chart" in r.output
