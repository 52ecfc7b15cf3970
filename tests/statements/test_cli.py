"""``vigil statements export | submit | show`` on SQLite, against the fake transparency database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from tests.statements.fake_tdb import FakeTransparencyDatabase
from tests.statements.seed import seed_statements, set_body, stored
from vigil.cli import app
from vigil.db import make_engine, upgrade

runner = CliRunner()


def _flat(output: str) -> str:
    """The output with Rich's line wrapping undone."""
    return " ".join(output.split())


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    yield url, engine
    engine.dispose()


def test_export_writes_batches_and_names_what_it_left_out(
    db: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = db
    puids = seed_statements(engine, 205)
    set_body(engine, puids[7], category="STATEMENT_CATEGORY_NOPE")
    out = tmp_path / "export"
    result = runner.invoke(app, ["--db", url, "statements", "export", "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "204 statement(s) in 3 file(s)" in _flat(result.output)
    assert puids[7] in result.output
    assert "category" in result.output
    sizes = [len(json.loads(p.read_text())["statements"]) for p in sorted(out.iterdir())]
    assert sizes == [100, 100, 4]

    again = runner.invoke(app, ["--db", url, "statements", "export", "--out", str(out)])
    assert again.exit_code == 1
    assert "already holds an export" in _flat(again.output)


def test_export_since_and_all(db: tuple[str, Engine], tmp_path: Path) -> None:
    url, engine = db
    seed_statements(engine, 3)
    args = ["--db", url, "statements", "export", "--all", "--since", "2025-07-01"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    assert "3 statement(s) in 1 file(s)" in _flat(result.output)
    args[-1] = "2025-07-02"
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "b")])
    assert "0 statement(s) in 0 file(s)" in _flat(result.output)


def test_submit_then_show(
    db: tuple[str, Engine], tdb: FakeTransparencyDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = db
    puids = seed_statements(engine, 120)
    monkeypatch.setenv("MY_TDB_TOKEN", tdb.token)
    result = runner.invoke(
        app,
        ["--db", url, "statements", "submit", "--endpoint", tdb.url, "--token-env", "MY_TDB_TOKEN"],
    )
    assert result.exit_code == 0, result.output
    assert "created now (HTTP 201)" in result.output
    assert "120" in result.output
    assert tdb.token not in result.output
    assert [len(r.puids) for r in tdb.batch_requests] == [100, 20]

    shown = runner.invoke(app, ["--db", url, "statements", "show", puids[0]])
    assert shown.exit_code == 0, shown.output
    assert "Statement of reasons" in shown.output
    assert f"Reference: {puids[0]}" in shown.output
    assert "out-of-court" in shown.output
    assert "Transparency database: submitted on" in _flat(shown.output)
    uuid = stored(engine, puids[0]).tdb_uuid
    assert uuid is not None
    assert uuid in shown.output


def test_submit_needs_the_token_variable(
    db: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = db
    monkeypatch.delenv("VIGIL_TDB_TOKEN", raising=False)
    result = runner.invoke(
        app, ["--db", url, "statements", "submit", "--endpoint", "https://tdb.example"]
    )
    assert result.exit_code == 2
    assert "VIGIL_TDB_TOKEN is not set" in _flat(result.output)


def test_submit_with_a_refused_token_fails_clearly(
    db: tuple[str, Engine], tdb: FakeTransparencyDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = db
    seed_statements(engine, 1)
    monkeypatch.setenv("VIGIL_TDB_TOKEN", "not-the-token-8812")
    result = runner.invoke(app, ["--db", url, "statements", "submit", "--endpoint", tdb.url])
    assert result.exit_code == 2
    assert "refused the token (HTTP 401)" in _flat(result.output)
    assert "not-the-token-8812" not in result.output


def test_show_an_unknown_puid(db: tuple[str, Engine]) -> None:
    url, _ = db
    result = runner.invoke(app, ["--db", url, "statements", "show", "vigil-nope"])
    assert result.exit_code == 1
    assert "puid: no statement with PUID vigil-nope" in _flat(result.output)
