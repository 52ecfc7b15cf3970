"""``vigil authorities`` end to end on both backends: intake, verify, approve, produce, notices."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from tests.authorities.support import T0, add_account, add_staff, body, events
from vigil.cli import app
from vigil.cli_support import console

runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 240)


def test_the_command_line_path(engine: Engine, db_url: str, tmp_path: Path) -> None:
    add_staff(engine)
    add_account(engine, "acct-suspect", "suspect", created=T0.replace(month=9, day=5))
    good = tmp_path / "order.json"
    good.write_text(json.dumps(body(received_at=T0.isoformat())), encoding="utf-8")
    broad = tmp_path / "broad.json"
    broad.write_text(
        json.dumps(body(targets=[{"identifier_type": "username", "value": "all users"}])),
        encoding="utf-8",
    )
    malformed = tmp_path / "malformed.json"
    malformed.write_text(json.dumps(body(authority={"name": "X"})), encoding="utf-8")

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["--db", db_url, "authorities", *args])
        return result.exit_code, result.output

    code, out = run("intake", str(good))
    assert code == 0, out
    assert "request #1 (production) acknowledged" in out
    code, out = run("intake", str(broad))
    assert code == 3
    assert "broad_target" in out
    code, out = run("intake", str(malformed))
    assert code == 1
    assert "authority.country" in out

    code, out = run("produce", "1", "--by", "lena", "--out", str(tmp_path / "p.json"))
    assert code == 1
    assert "not verified and approved" in out
    code, out = run("approve", "1", "--by", "lena")
    assert code == 1
    assert "unverified" in out
    code, out = run(
        "verify", "1", "--method", "portal_identity", "--evidence", "portal-7", "--by", "lena"
    )
    assert code == 0, out
    assert "verified" in out
    code, out = run("approve", "1", "--by", "mo")
    assert code == 1
    assert "legal_officer" in out
    assert run("approve", "1", "--by", "omar")[0] == 0
    package = tmp_path / "package.json"
    code, out = run("produce", "1", "--by", "lena", "--out", str(package))
    assert code == 0, out
    digest = hashlib.sha256(package.read_bytes()).hexdigest()
    assert digest in out
    assert json.loads(package.read_text())["accounts"][0]["platform_account_id"] == "acct-suspect"
    code, out = run("refuse", "2", "--reason", "overbroad", "--by", "lena")
    assert code == 1  # already refused at intake
    code, out = run("list")
    assert code == 0
    assert "produced" in out
    assert "broad_target" in out
    code, out = run("show", "1")
    assert code == 0
    assert "acct-suspect" in out
    assert "portal_identity" in out
    code, out = run("notify-due")
    assert code == 0
    assert "0 notice(s)" in out
    assert len(events(engine, "authority_request.user_notified")) == 1
    code, out = run("nondisclosure", "1", "--by", "lena")
    assert code == 1
    assert "no non-disclosure term" in out
    code, out = run("show", "99")
    assert code == 1
    assert "no request #99" in out
