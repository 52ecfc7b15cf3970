"""``vigil bank import`` rescans earlier items; ``vigil bank rescan`` and ``rescans`` run and list jobs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.support.rescans import signals_by_item
from tests.support.spine import item, write_jsonl
from vigil import cli_support
from vigil.audit.services import verify
from vigil.banks.models import BankEntry
from vigil.cli import app
from vigil.db import make_engine

runner = CliRunner()
A, B = "a1" * 32, "b2" * 32


def vigil(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db_url, *args], env={"COLUMNS": "240"})
    return result.exit_code, result.stdout, result.stderr


def _rows(out: str) -> dict[str, list[str]]:
    """Table rows by job number."""
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines() if "│" in line]
    return {r[0]: r for r in rows if r and r[0].isdigit()}


def test_import_rescans_and_the_rescan_commands(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A wide console so Rich does not abbreviate the cells this test reads.
    monkeypatch.setattr(cli_support.console, "width", 240)
    items = write_jsonl(
        tmp_path / "items.jsonl",
        [
            item("one", "x", media=[{"sha256": A}]),
            item("two", "y", media=[{"sha256": B}]),
            item("three", "z", media=[{"sha256": "c3" * 32}]),
        ],
    )
    code, out, err = vigil(db_url, "ingest", str(items))
    assert code == 0, out + err
    code, out, _ = vigil(db_url, "bank", "rescans")
    assert (code, out.strip()) == (0, "no rescans")

    first = tmp_path / "first.txt"
    first.write_text(A + "\n")
    code, out, err = vigil(
        db_url, "bank", "import", str(first), "-b", "gifct", "-k", "sha256", "-c", "terrorism"
    )
    assert code == 0, out + err
    assert "1 added" in out
    assert (
        "rescan #1 (bank gifct): 1 items scanned, 1 signals, 0 withheld (known-benign), "
        "1 verdicts, 0 cases opened, 1 actions"
    ) in out
    assert signals_by_item(make_engine(db_url)) == {"one": [("gifct", "sha256")]}

    second = tmp_path / "second.txt"
    second.write_text(B + "\n")
    code, out, _ = vigil(db_url, "bank", "import", str(second), "-b", "gifct", "--no-rescan")
    assert code == 0
    assert "rescan #2 queued; `vigil bank rescan gifct` runs it" in out
    code, out, _ = vigil(db_url, "bank", "rescans", "gifct")
    rows = _rows(out)
    assert rows["1"][4] == "finished"
    assert rows["1"][5] == "3 of 3"  # item ids covered
    assert rows["2"][1:5] == ["gifct", "import", f"#{_entry(db_url, B)}", "pending"]
    code, out, _ = vigil(db_url, "bank", "rescans", "--unfinished")
    assert set(_rows(out)) == {"2"}

    code, out, err = vigil(db_url, "bank", "rescan", "gifct", "--chunk-size", "1")
    assert code == 0, out + err
    assert "rescan #2 (bank gifct): 1 items scanned, 1 signals" in out
    assert set(signals_by_item(make_engine(db_url))) == {"one", "two"}
    code, out, _ = vigil(db_url, "bank", "rescan")
    assert out.strip() == "no rescan to run"

    # Restoring a withdrawn entry rescans for it; what it matched before is not raised again.
    entry = str(_entry(db_url, A))
    code, out, _ = vigil(db_url, "bank", "entry", "disable", "gifct", entry, "-r", "check")
    assert code == 0
    code, out, err = vigil(db_url, "bank", "entry", "enable", "gifct", entry)
    assert code == 0, out + err
    assert "rescan #3 (bank gifct): 1 items scanned, 0 signals" in out
    code, out, _ = vigil(db_url, "bank", "rescans")
    assert _rows(out)["3"][2:4] == ["entry_enabled", f"#{entry}"]

    code, _, err = vigil(db_url, "bank", "rescans", "nope")
    assert code == 1
    assert "no bank named 'nope'" in err
    code, out, _ = vigil(db_url, "audit", "verify")
    assert code == 0, out
    with Session(make_engine(db_url)) as s:
        assert verify(s).ok


def _entry(db_url: str, value: str) -> int:
    with Session(make_engine(db_url)) as s:
        entry_id = s.scalar(select(BankEntry.id).where(BankEntry.value == value))
    assert entry_id is not None
    return entry_id
