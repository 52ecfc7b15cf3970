"""``vigil account show``: strikes, active weight and the reasons an account is of concern."""

from __future__ import annotations

from sqlalchemy import Engine
from typer.testing import CliRunner

from tests.support.enforcement import Clock, account, default_policy, post, violation
from vigil.cli import app
from vigil.strikes import services as strikes
from vigil.unit_of_work import unit_of_work

runner = CliRunner()


def test_account_show(engine: Engine, db_url: str) -> None:
    with unit_of_work(engine, clock=Clock()) as uow:
        who = account(uow, "acct-shown")
        for n, category in enumerate(["terrorism", "spam"]):
            item = post(uow, who, f"item-{n}")
            decision, actions = violation(uow, item, category)
            strikes.issue(
                uow,
                account_id=who.id,
                item_id=item.id,
                category=category,
                policy=default_policy(),
                decision_id=decision.id,
                action_id=actions[0].id,
            )
        strikes.remove_for(uow, decision_id=decision.id, appeal_id=None, actor="bob")
    result = runner.invoke(
        app, ["--db", db_url, "account", "show", "acct-shown"], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "active strike weight: 5" in out
    assert "next step: close_account at weight 8" in out
    assert "of concern: yes" in out
    assert "terrorism" in out
    assert "spam" in out
    assert "removed on appeal" in out
    assert "strike" in out
    assert "verdict" in out


def test_account_show_unknown_account(db_url: str) -> None:
    result = runner.invoke(app, ["--db", db_url, "account", "show", "nobody"])
    assert result.exit_code == 1
    assert "platform_account_id: no account 'nobody'" in result.output
