"""``vigil referral`` on SQLite: propose, approve, list, show, submit to a local fake."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner, Result

from tests.referrals.fake_authority import running
from tests.referrals.support import NOTE, threat
from vigil.cli import app
from vigil.db import make_engine, upgrade

runner = CliRunner()


def test_referral_commands_end_to_end(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(db)
    upgrade(engine)
    sc = threat(engine, tmp_path)
    engine.dispose()

    def vigil(*args: str, code: int = 0, env: dict[str, str] | None = None) -> Result:
        r = runner.invoke(app, ["--db", db, *args], env={"COLUMNS": "240", **(env or {})})
        assert r.exit_code == code, r.output
        return r

    out = vigil("referral", "propose", str(sc.decision_id), "--by", "alice").output
    assert "referral #1 proposed: dsa_art18 (P1_immediate)" in out
    refused = vigil("referral", "approve", "1", "--by", "mia", code=1).output
    assert "lacks the legal_officer role" in refused
    assert "hold #1" in vigil("referral", "approve", "1", "--by", "lena").output
    listed = vigil("referral", "list").output
    assert "approved" in listed
    assert "dsa_art18" in listed
    shown = vigil("referral", "show", "1").output
    assert "Chain of custody" in shown
    assert "referral.approved" in shown
    assert "lena" in shown
    assert "evidence.viewed" in shown
    assert "europol" in shown
    assert NOTE not in shown
    assert "nothing to submit" not in shown
    with running(token="s3cret") as fake:
        env = {"VIGIL_REFERRAL_DSA_ART18_TOKEN": "s3cret"}
        sent = vigil("referral", "submit", "--endpoint", fake.url, env=env).output
        assert "referral #1 submitted: art18-1" in sent
        assert "s3cret" not in sent
    assert (
        "nothing to submit" in vigil("referral", "submit", "--endpoint", "https://x.example").output
    )
    bad = vigil("referral", "propose", "999", "--by", "alice", code=1).output
    assert "no decision #999" in bad
