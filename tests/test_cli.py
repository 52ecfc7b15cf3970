"""Every command has useful --help, and the CLI drives a small spine run on SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tests.support.spine import item, write_jsonl
from vigil.cli import app

runner = CliRunner()


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix]
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            out += _commands(cmd, (*prefix, name))
        else:
            out.append((*prefix, name))
    return out


ROOT: Any = typer.main.get_command(app)
ALL = _commands(ROOT)


@pytest.mark.parametrize("path", ALL, ids=lambda p: " ".join(p) or "vigil")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    cmd = ROOT
    for name in path:
        cmd = cmd.commands[name]
    assert (cmd.help or "").strip(), f"{' '.join(path)} has no help text"


def test_cli_ingest_review_and_verify(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    terms = tmp_path / "terms.txt"
    terms.write_text("# synthetic\ni will hurt you\n")
    r = runner.invoke(
        app,
        [
            "--db",
            db,
            "bank",
            "import",
            str(terms),
            "-b",
            "threats",
            "-k",
            "term",
            "-c",
            "threat_to_life",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "1 added" in r.output
    data = write_jsonl(
        tmp_path / "items.jsonl", [item("a", "[SYNTHETIC TEST CONTENT] i will hurt you"), "{bad"]
    )
    r = runner.invoke(app, ["--db", db, "ingest", str(data)])
    assert r.exit_code == 0, r.output
    assert "rejected line(s)" in r.output
    r = runner.invoke(app, ["--db", db, "review", "queue"])
    assert r.exit_code == 0
    assert "threat_to_life" in r.output
    r = runner.invoke(app, ["--db", db, "review", "show", "1", "--reviewer", "alice"])
    assert r.exit_code == 0
    assert "i will hurt you" in r.output
    decide = ["review", "decide", "1", "-o", "violating", "-r", "alice"]
    r = runner.invoke(app, ["--db", db, *decide, "--clause", "threat_to_life"])
    assert r.exit_code == 0, r.output
    assert "awaiting confirmation" in r.output  # threats need a second reviewer
    r = runner.invoke(app, ["--db", db, "review", "confirm", "1", "-r", "bob"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["--db", db, "review", "queue"])
    assert "empty" in r.output
    r = runner.invoke(app, ["--db", db, "audit", "verify"])
    assert r.exit_code == 0
    assert "chain intact" in r.output
