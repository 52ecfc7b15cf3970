"""``vigil appeal``: file, queue, claim, decide and show, with clear one-line errors."""

from __future__ import annotations

from sqlalchemy import Engine
from typer.testing import CliRunner

from tests.support.enforcement import account, default_policy, post, violation
from vigil.cli import app
from vigil.unit_of_work import unit_of_work

runner = CliRunner()


def _run(db_url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", db_url, "appeal", *args], terminal_width=200)
    return result.exit_code, result.output


def test_appeal_round_trip(engine: Engine, db_url: str) -> None:
    with unit_of_work(engine) as uow:
        who = account(uow, "acct-1")
        decision, _ = violation(uow, post(uow, who, "item-1"), "hate")
        decision_id = decision.id
    code, out = _run(
        db_url, "file", "--decision", str(decision_id), "--appellant", "acct-1",
        "--reason", "It was satire.",
    )  # fmt: skip
    assert code == 0, out
    assert f"appeal 1 against decision:{decision_id}" in out
    code, out = _run(db_url, "file", "--decision", str(decision_id), "--appellant", "acct-1")
    assert code == 1
    assert "already appealed" in out
    code, out = _run(db_url, "queue")
    assert code == 0, out
    assert f"decision:{decision_id}" in out
    code, out = _run(db_url, "claim", "1", "--reviewer", "alice")
    assert code == 1
    assert "reviewer: alice made or confirmed" in out
    code, out = _run(db_url, "claim", "1", "--reviewer", "bob")
    assert code == 0, out
    assert "claimed appeal 1" in out
    code, out = _run(
        db_url, "decide", "1", "--reviewer", "bob", "--outcome", "reversed",
        "--reasoning", "Satire is allowed.",
    )  # fmt: skip
    assert code == 0, out
    assert "appeal 1: reversed, 1 action(s) reversed" in out
    code, out = _run(db_url, "show", "1")
    assert code == 0, out
    assert "It was satire." in out
    assert "Satire is allowed." in out
    assert "out-of-court dispute settlement body" in out
    assert "decided reversed by bob" in out
    code, out = _run(db_url, "queue")
    assert "No open appeals." in out
    code, out = _run(db_url, "show", "99")
    assert code == 1
    assert "no appeal #99" in out
    assert default_policy().appeals.deadline == "7d"
