"""``vigil bank quarantine``, ``bank show`` and ``bank entry release`` after a real burst."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.banks.test_cli import runner, vigil
from tests.support.banks import events
from tests.support.safeguards import T0, batch, media_item, plain, sha, tuned_context
from vigil.banks.formats import RawEntry
from vigil.banks.models import BankEntry
from vigil.banks.services import create_bank, import_entries
from vigil.cli import app
from vigil.db import make_engine
from vigil.safeguards.models import Quarantine
from vigil.unit_of_work import unit_of_work

BAD, GOOD = sha("cli stock photo"), sha("cli known bad")


def _burst(db_url: str, tmp_path: Path) -> tuple[int, int]:
    """Bank ``terror`` with two entries; a burst quarantines the first. Returns both ids."""
    engine = make_engine(db_url)
    with unit_of_work(engine) as uow:
        bank = create_bank(uow, "terror", kind="sha256", category="terrorism", source="Hashlist")
        import_entries(
            uow,
            bank,
            [RawEntry(1, BAD, external_id="hl-17"), RawEntry(2, GOOD, external_id="hl-18")],
        )
    ctx = tuned_context(engine, tmp_path, min_matches=5, prior_rate=0.01, prior_items=100)
    batch(engine, ctx, T0, [media_item(f"i-{i}", BAD) for i in range(8)] + plain("p", 32))
    with Session(engine) as s:
        ids = {v: i for v, i in s.execute(select(BankEntry.value, BankEntry.id))}
    engine.dispose()
    return ids[BAD], ids[GOOD]


def test_listing_showing_and_releasing_a_quarantined_entry(db_url: str, tmp_path: Path) -> None:
    code, out, _ = vigil(db_url, "quarantine")
    assert (code, out.strip()) == (0, "no quarantined entries")
    bad, good = _burst(db_url, tmp_path)

    code, out, _ = vigil(db_url, "quarantine")
    assert code == 0, out
    since = T0.isoformat(timespec="minutes")
    assert out.splitlines()[:4] == [
        "1 quarantined entry: their matches open review cases instead of acting alone",
        f"terror #{bad}  external_id=hl-17  source=Hashlist  since={since}  enabled",
        "  why: matched 8 of 40 items scanned in the last 1h (20%), more than 10 times its "
        "baseline of 1%",
        "  matches: 8 in the window that tripped it, 8 held for review since",
    ]
    assert "vigil bank entry release BANK ENTRY_ID --reason" in out

    # The reviewer of a held item sees why it was held.
    review = runner.invoke(
        app, ["--db", db_url, "review", "show", "1", "-r", "alice"], env={"COLUMNS": "220"}
    )
    assert review.exit_code == 0, review.output
    assert "quarantined" in review.stdout

    code, out, _ = vigil(db_url, "show", "terror")
    assert code == 0
    assert "quarantine 1 entry held back (see `vigil bank quarantine`)" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip().startswith("#")}
    assert "QUARANTINED since" in lines[f"#{bad}"]
    assert "QUARANTINED" not in lines[f"#{good}"]

    code, _, err = vigil(db_url, "entry", "release", "terror", str(bad), "-r", "   ")
    assert code == 1
    assert "give a --reason for releasing the entry" in err
    code, _, err = vigil(db_url, "entry", "release", "terror", "9999", "-r", "x")
    assert (code, "bank 'terror' has no entry 9999" in err) == (1, True)
    code, out, _ = vigil(db_url, "entry", "release", "terror", str(good), "-r", "x")
    assert (code, out.strip()) == (0, f"entry {good} was not quarantined")

    code, out, _ = vigil(db_url, "entry", "release", "terror", str(bad), "-r", "viral, but genuine")
    assert (code, out.strip()) == (0, f"entry {bad} released")
    ((_, _, payload),) = events(make_engine(db_url), "bank.entry_released")
    assert payload["bank_entry_id"] == bad
    assert payload["reason_sha256"] == hashlib.sha256(b"viral, but genuine").hexdigest()
    code, out, _ = vigil(db_url, "quarantine")
    assert out.strip() == "no quarantined entries"
    code, out, _ = vigil(db_url, "show", "terror")
    assert "QUARANTINED" not in out
    assert "quarantine none" in out


def test_disabling_is_separate_from_releasing(db_url: str, tmp_path: Path) -> None:
    bad, _ = _burst(db_url, tmp_path)
    code, out, _ = vigil(db_url, "entry", "disable", "terror", str(bad), "-r", "stock photo")
    assert (code, out.strip()) == (0, f"entry {bad} disabled")
    # Still quarantined (a person may release it later), but no longer matching.
    code, out, _ = vigil(db_url, "quarantine", "--bank", "terror")
    assert f"terror #{bad}" in out
    assert "disabled" in out.splitlines()[1]
    engine = make_engine(db_url)
    with Session(engine) as s:
        q = s.scalars(select(Quarantine)).one()
        assert q.released_at is None
    assert events(engine, "bank.entry_released") == []
    engine.dispose()
