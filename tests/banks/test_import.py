"""``vigil bank import`` and ``vigil bank list`` through the CLI on SQLite."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from vigil import cli_support
from vigil.banks.models import Bank, BankEntry
from vigil.cli import app
from vigil.db import make_engine

runner = CliRunner()


def _sha(n: int) -> str:
    return hashlib.sha256(f"benign-{n}".encode()).hexdigest()


def _flat(text: str) -> str:
    """Output with Rich's line wrapping undone."""
    return " ".join(text.split())


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    # Relative file names keep Rich from wrapping messages that quote the path.
    monkeypatch.chdir(tmp_path)
    return f"sqlite:///{tmp_path / 'banks.db'}"


def _vigil(db: str, *args: str) -> Result:
    return runner.invoke(app, ["--db", db, *args])


def _entries(db: str, bank: str) -> list[BankEntry]:
    engine = make_engine(db)
    try:
        with Session(engine) as s:
            return list(
                s.scalars(
                    select(BankEntry)
                    .join(Bank, Bank.id == BankEntry.bank_id)
                    .where(Bank.name == bank)
                    .order_by(BankEntry.id)
                )
            )
    finally:
        engine.dispose()


def _bank_names(db: str) -> list[str]:
    engine = make_engine(db)
    try:
        with Session(engine) as s:
            return list(s.scalars(select(Bank.name).order_by(Bank.name)))
    finally:
        engine.dispose()


def _write_hash_list(path: Path) -> Path:
    path.write_text(
        "\n".join(
            [
                "# synthetic hash list",  # 1
                _sha(1),  # 2
                "",  # 3
                f"  {_sha(2).upper()}  ",  # 4
                "not-a-hash",  # 5
                "   ",  # 6
                _sha(3),  # 7
                "# end",  # 8
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return path


def test_text_list_reports_bad_line_and_adds_the_rest(db: str, tmp_path: Path) -> None:
    hashes = _write_hash_list(tmp_path / "hashes.txt")
    args = ["bank", "import", "hashes.txt", "-b", "terror", "-k", "sha256", "-c", "terrorism"]
    r = _vigil(db, *args)
    assert r.exit_code == 0, r.output
    assert "hashes.txt:5: rejected: expected 64 hex digits, got 'not-a-hash'" in _flat(r.stderr)
    assert "hashes.txt:5" not in r.stdout
    assert "3 added, 0 already present, 1 rejected -> bank terror" in _flat(r.stdout)
    assert [e.value for e in _entries(db, "terror")] == [_sha(1), _sha(2), _sha(3)]

    again = _vigil(db, *args)
    assert again.exit_code == 0, again.output
    assert "0 added, 3 already present, 1 rejected -> bank terror" in _flat(again.stdout)
    assert "hashes.txt:5: rejected:" in _flat(again.stderr)
    assert len(_entries(db, "terror")) == 3
    # An existing bank needs neither --kind nor --category.
    more = tmp_path / "more.txt"
    more.write_text(f"{_sha(4)}\n{_sha(1)}\n")
    r = _vigil(db, "bank", "import", "more.txt", "-b", "terror")
    assert r.exit_code == 0, r.output
    assert "1 added, 1 already present, 0 rejected" in _flat(r.stdout)
    assert hashes.exists()


def test_csv_keeps_external_id_and_note(db: str, tmp_path: Path) -> None:
    (tmp_path / "urls.csv").write_text(
        "value,external_id,note\n"
        "https://WWW.bad.example/a?utm_source=x,EXT-1,from partner feed\n"
        "https://bad.example/b,EXT-2,\n"
        "ftp://bad.example/c,EXT-3,not http\n"
        '"https://bad.example/d","EXT-4","note with, a comma"\n',
        encoding="utf-8",
    )
    r = _vigil(db, "bank", "import", "urls.csv", "-b", "phish", "-k", "url", "-c", "spam")
    assert r.exit_code == 0, r.output
    assert "urls.csv:4: rejected:" in _flat(r.stderr)
    assert "3 added, 0 already present, 1 rejected" in _flat(r.stdout)
    rows = [(e.value, e.external_id, e.note) for e in _entries(db, "phish")]
    assert rows == [
        ("https://bad.example/a", "EXT-1", "from partner feed"),
        ("https://bad.example/b", "EXT-2", None),
        ("https://bad.example/d", "EXT-4", "note with, a comma"),
    ]


def test_existing_bank_with_other_kind_fails(db: str, tmp_path: Path) -> None:
    _write_hash_list(tmp_path / "hashes.txt")
    r = _vigil(
        db, "bank", "import", "hashes.txt", "-b", "terror", "-k", "sha256", "-c", "terrorism"
    )
    assert r.exit_code == 0, r.output
    (tmp_path / "md5.txt").write_text(hashlib.md5(b"x").hexdigest() + "\n")  # noqa: S324
    r = _vigil(db, "bank", "import", "md5.txt", "-b", "terror", "-k", "md5")
    assert r.exit_code == 1
    assert "error: bank 'terror' holds sha256 entries, not md5" in _flat(r.stderr)
    assert "added" not in r.stdout
    assert len(_entries(db, "terror")) == 3


def test_creating_without_category_fails(db: str, tmp_path: Path) -> None:
    (tmp_path / "terms.txt").write_text("grobnit\n")
    r = _vigil(db, "bank", "import", "terms.txt", "-b", "slurs", "-k", "term")
    assert r.exit_code == 1
    assert "error: bank 'slurs' does not exist; give --kind and --category to create it" in _flat(
        r.stderr
    )
    assert _bank_names(db) == []
    r = _vigil(db, "bank", "import", "terms.txt", "-b", "slurs", "-c", "hate")
    assert r.exit_code == 1
    assert "give --kind and --category" in _flat(r.stderr)
    assert _bank_names(db) == []


def test_bank_list_shows_counts(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A wide console so Rich does not abbreviate the cells this test reads.
    monkeypatch.setattr(cli_support.console, "width", 200)
    _write_hash_list(tmp_path / "hashes.txt")
    md5s = [hashlib.md5(str(n).encode()).hexdigest() for n in range(1205)]  # noqa: S324
    (tmp_path / "md5.txt").write_text("\n".join(md5s) + "\n")
    imports = [
        ("hashes.txt", "terror", "sha256", "terrorism"),
        ("md5.txt", "big", "md5", "child_sexual_exploitation"),
    ]
    for file, bank, kind, category in imports:
        r = _vigil(db, "bank", "import", file, "-b", bank, "-k", kind, "-c", category)
        assert r.exit_code == 0, r.output
    r = _vigil(db, "bank", "list")
    assert r.exit_code == 0, r.output
    rows = {
        cells[0]: cells
        for line in r.stdout.splitlines()
        if len(cells := [c.strip() for c in line.strip("│┃ ").split("│")]) == 9
    }
    assert rows["terror"][1:6] == ["sha256", "terrorism", "local", "3 of 3", "yes"]
    assert rows["big"][4] == "1,205 of 1,205"
    assert rows["big"][1] == "md5"
    assert _bank_names(db) == ["big", "terror"]
