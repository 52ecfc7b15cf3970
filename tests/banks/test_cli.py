"""``vigil bank`` end to end on SQLite and PostgreSQL: every change is an event."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.support.banks import events
from vigil.banks.models import BankEntry
from vigil.cli import app
from vigil.db import make_engine

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def vigil(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db_url, "bank", *args], env={"COLUMNS": "220"})
    return result.exit_code, result.stdout, result.stderr


def test_bank_commands(db_url: str, tmp_path: Path) -> None:
    code, out, _ = vigil(
        db_url, "create", "te-pdq", "-k", "pdq", "-c", "terrorism", "--source", "TE",
        "--threshold", "20", "--rollout", "0.5", "--transforms",
    )  # fmt: skip
    assert code == 0, out
    assert "created pdq bank te-pdq" in out
    code, out, _ = vigil(db_url, "create", "benign", "-k", "pdq", "-c", "terrorism", "--negative")
    assert "created negative pdq bank benign" in out
    code, _, err = vigil(db_url, "create", "bad", "-k", "term", "-c", "hate", "--threshold", "3")
    assert code == 1
    assert "--threshold applies only to pdq banks" in err

    te_file = DATA / "te_dataset.csv"
    code, out, err = vigil(db_url, "import", str(te_file), "-b", "te-pdq")
    assert code == 0, out + err
    assert "3 added, 0 already present, 5 rejected -> bank te-pdq" in out
    assert (
        f"{te_file}:4: rejected: a md5 entry cannot go into bank 'te-pdq', which holds pdq entries"
    ) in err
    code, out, _ = vigil(db_url, "import", str(te_file), "-b", "benign", "-f", "te")
    assert "1 added" in out

    code, out, _ = vigil(db_url, "list")
    assert code == 0
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert "3 of 3" in rows["te-pdq"]
    assert "50%" in rows["te-pdq"]
    assert " 20 " in rows["te-pdq"]
    assert "yes" in rows["benign"].split("│")[7]

    code, out, _ = vigil(db_url, "set", "te-pdq", "--threshold", "25", "--rollout", "1")
    assert code == 0
    assert "threshold 20 -> 25" in out
    assert "rollout 0.5 -> 1.0" in out
    code, _, err = vigil(db_url, "set", "te-pdq", "--rollout", "2")
    assert code == 1
    assert "rollout must be between 0 and 1" in err

    engine = make_engine(db_url)
    with Session(engine) as s:
        first = s.scalars(select(BankEntry).order_by(BankEntry.id)).first()
        assert first is not None
        first_id = first.id
    code, out, _ = vigil(db_url, "entry", "disable", "te-pdq", str(first_id), "-r", "stock photo")
    assert (code, out.strip()) == (0, f"entry {first_id} disabled")
    code, out, _ = vigil(db_url, "show", "te-pdq")
    assert code == 0
    assert "threshold  25" in out
    assert "transforms yes" in out
    assert "disabled: stock photo" in out
    assert "Sample Collab" in out

    exported = tmp_path / "te-pdq.csv"
    code, _, err = vigil(db_url, "export", "te-pdq", "-f", "te", "-o", str(exported))
    assert code == 0
    assert "2 entries" in err
    code, out, _ = vigil(db_url, "export", "te-pdq", "--format", "te")
    assert out == exported.read_text()
    code, out, _ = vigil(db_url, "entry", "enable", "te-pdq", str(first_id))
    assert out.strip() == f"entry {first_id} enabled"
    code, out, _ = vigil(db_url, "export", "te-pdq", "--format", "csv")
    assert len(out.splitlines()) == 4

    code, out, _ = vigil(db_url, "disable", "benign")
    assert out.strip() == "bank benign disabled"
    code, out, _ = vigil(db_url, "disable", "benign")
    assert out.strip() == "bank benign was already disabled"
    code, out, _ = vigil(db_url, "enable", "benign")
    assert out.strip() == "bank benign enabled"
    code, _, err = vigil(db_url, "show", "nope")
    assert code == 1
    assert "no bank named 'nope'" in err

    types = [t for t, _, _ in events(engine, "bank.")]
    engine.dispose()
    assert types == [
        "bank.created",
        "bank.created",
        "bank.entries_added",
        "bank.entries_added",
        "bank.settings_changed",
        "bank.entry_disabled",
        "bank.entry_enabled",
        "bank.disabled",
        "bank.enabled",
    ]
