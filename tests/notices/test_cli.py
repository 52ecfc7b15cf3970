"""``vigil notices notifiers`` and ``vigil notices show`` on a small SQLite scenario."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.notices.support import Scenario, notice, strict_policy
from vigil.cli import app
from vigil.cli_support import console
from vigil.db import make_engine, upgrade
from vigil.db.base import utcnow

runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables are parsed by cell: keep them on one line whatever the terminal."""
    monkeypatch.setattr(console, "width", 200)


def _scenario(tmp_path: Path) -> tuple[str, Path]:
    """'troll' limited, 'meh' warned, 'good' in standing, 'org-x' a trusted flagger."""
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    policy = strict_policy(tmp_path, warn_after=1, limit_after=2)
    engine = make_engine(db)
    upgrade(engine)
    sc = Scenario(engine, tmp_path, policy)
    sc.clock.now = utcnow()  # the CLI reads the status at the real time
    for name, founded in [("troll", False), ("troll", False), ("meh", False), ("good", True)]:
        sc.clock.advance(seconds=1)
        sc.reported_and_decided(name, f"{name}-{sc.clock.now.timestamp()}", action_taken=founded)
    sc.items("tf-item")
    sc.ingest([notice("tf-1", "tf-item", "org-x", reporter_type="trusted_flagger")])
    engine.dispose()
    return db, policy


def _rows(output: str) -> dict[str, list[str]]:
    """Table rows by notifier, as lists of cell texts."""
    names = ("troll", "meh", "good", "org-x")
    return {
        cells[0]: cells
        for cells in (ln.split() for ln in output.splitlines())
        if cells and cells[0] in names
    }


def test_notifiers_table_and_status_filter(tmp_path: Path) -> None:
    db, policy = _scenario(tmp_path)
    result = runner.invoke(app, ["--db", db, "notices", "notifiers", "--policy", str(policy)])
    assert result.exit_code == 0, result.output
    rows = _rows(result.output)
    assert set(rows) == {"troll", "meh", "good", "org-x"}
    assert rows["troll"][1:7] == ["user", "2", "0", "2", "100%", "limited"]
    assert rows["meh"][1:7] == ["user", "1", "0", "1", "100%", "warned"]
    assert rows["good"][1:7] == ["user", "1", "1", "0", "0%", "ok"]
    assert rows["org-x"][1:7] == ["trusted_flagger", "1", "0", "0", "-", "ok"]
    assert rows["troll"][7] == f"{utcnow() + timedelta(days=30):%Y-%m-%d}"  # until

    limited = runner.invoke(
        app, ["--db", db, "notices", "notifiers", "--status", "limited", "--policy", str(policy)]
    )
    assert limited.exit_code == 0, limited.output
    assert set(_rows(limited.output)) == {"troll"}
    warned = runner.invoke(
        app, ["--db", db, "notices", "notifiers", "-s", "warned", "--policy", str(policy)]
    )
    assert set(_rows(warned.output)) == {"meh"}
    bad = runner.invoke(app, ["--db", db, "notices", "notifiers", "--status", "banned"])
    assert bad.exit_code != 0


def test_show_one_notifier(tmp_path: Path) -> None:
    db, policy = _scenario(tmp_path)
    result = runner.invoke(app, ["--db", db, "notices", "show", "troll", "--policy", str(policy)])
    assert result.exit_code == 0, result.output
    assert "limited" in result.output
    assert "unfounded 2" in result.output
    assert "no_action" in result.output
    assert "(1 a day)" in result.output
    tf = runner.invoke(app, ["--db", db, "notices", "show", "org-x", "--policy", str(policy)])
    assert "never limited automatically" in tf.output
    missing = runner.invoke(app, ["--db", db, "notices", "show", "nobody"])
    assert missing.exit_code == 1
    assert "notifier: no notices from 'nobody'" in missing.output
