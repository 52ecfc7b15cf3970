"""Bank settings, entry withdrawal and import rejections, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.support.banks import events, make_bank
from vigil.banks.models import Bank, BankEntry
from vigil.banks.services import (
    BankError,
    create_bank,
    import_file,
    set_bank_enabled,
    set_entry_enabled,
    update_bank,
)
from vigil.items.services import text_hash
from vigil.unit_of_work import unit_of_work

DATA = Path(__file__).parent / "data"


def _bank(engine: Engine, name: str) -> Bank:
    with Session(engine) as s:
        bank = s.scalars(select(Bank).where(Bank.name == name)).one()
        s.expunge(bank)
        return bank


def _entries(engine: Engine, name: str) -> list[BankEntry]:
    with Session(engine) as s:
        rows = list(
            s.scalars(select(BankEntry).join(Bank).where(Bank.name == name).order_by(BankEntry.id))
        )
        s.expunge_all()
        return rows


def test_create_records_settings_and_defaults(engine: Engine) -> None:
    make_bank(engine, "gifct-pdq", "pdq", "terrorism", [], rollout=0.25, match_transforms=True)
    make_bank(engine, "benign-text", "text", "terrorism", [], negative=True)
    pdq, text = _bank(engine, "gifct-pdq"), _bank(engine, "benign-text")
    assert (pdq.threshold, pdq.rollout, pdq.negative, pdq.match_transforms) == (
        31,
        0.25,
        False,
        True,
    )
    assert (text.threshold, text.rollout, text.negative, text.enabled) == (None, 1.0, True, True)
    created = events(engine, "bank.created")
    assert [(s, p["kind"], p["threshold"], p["rollout"], p["negative"]) for _, s, p in created] == [
        (f"bank:{pdq.id}", "pdq", 31, 0.25, False),
        (f"bank:{text.id}", "text", None, 1.0, True),
    ]


@pytest.mark.parametrize(
    ("kind", "settings", "message"),
    [
        ("sha256", {"threshold": 10}, "--threshold applies only to pdq banks"),
        ("pdq", {"threshold": 257}, "threshold must be between 0 and 256 bits, not 257"),
        ("pdq", {"rollout": 1.5}, "rollout must be between 0 and 1 (a share of items), not 1.5"),
        ("term", {"match_transforms": True}, "--transforms applies only to pdq banks"),
        ("hash", {}, "unknown bank kind 'hash'"),
    ],
)
def test_bad_settings_are_refused(
    engine: Engine, kind: str, settings: dict[str, object], message: str
) -> None:
    with pytest.raises(BankError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_bank(engine, "b", kind, "terrorism", [], **settings)
    with Session(engine) as s:
        assert s.scalars(select(Bank)).all() == []


def test_names_are_unique(engine: Engine) -> None:
    make_bank(engine, "b", "md5", "spam", [])
    with pytest.raises(BankError, match="bank 'b' already exists"):
        make_bank(engine, "b", "md5", "spam", [])


def test_settings_changes_and_switches_are_events(engine: Engine) -> None:
    bank_id = make_bank(engine, "p", "pdq", "terrorism", [])
    with unit_of_work(engine) as uow:
        assert update_bank(uow, "p", threshold=20, rollout=0.5) == {
            "threshold": [31, 20],
            "rollout": [1.0, 0.5],
        }
    with unit_of_work(engine) as uow:
        assert update_bank(uow, "p", threshold=20) == {}  # unchanged: no event
        assert set_bank_enabled(uow, "p", False)
        assert not set_bank_enabled(uow, "p", False)
    with unit_of_work(engine) as uow:
        assert set_bank_enabled(uow, "p", True)
    make_bank(engine, "links", "url", "spam", [])
    with unit_of_work(engine) as uow, pytest.raises(BankError, match="only to pdq"):
        update_bank(uow, "links", threshold=3)
    assert [e for e in events(engine, "bank.") if e[0] != "bank.created"] == [
        (
            "bank.settings_changed",
            f"bank:{bank_id}",
            {"changes": {"threshold": [31, 20], "rollout": [1.0, 0.5]}},
        ),
        ("bank.disabled", f"bank:{bank_id}", {}),
        ("bank.enabled", f"bank:{bank_id}", {}),
    ]
    bank = _bank(engine, "p")
    assert (bank.threshold, bank.rollout, bank.enabled) == (20, 0.5, True)


def test_entries_are_withdrawn_with_a_reason_and_restored(engine: Engine) -> None:
    bank_id = make_bank(engine, "h", "md5", "spam", ["0" * 32, "1" * 32])
    first, second = _entries(engine, "h")
    with unit_of_work(engine) as uow:
        assert set_entry_enabled(uow, "h", first.id, False, reason="false positive: stock photo")
    entry = _entries(engine, "h")[0]
    assert not entry.enabled
    assert entry.disabled_reason == "false positive: stock photo"
    assert entry.disabled_at is not None
    with unit_of_work(engine) as uow:
        assert set_entry_enabled(uow, "h", first.id, True)
        assert not set_entry_enabled(uow, "h", second.id, True)
    entry = _entries(engine, "h")[0]
    assert (entry.enabled, entry.disabled_at, entry.disabled_reason) == (True, None, None)
    digest = hashlib.sha256(b"false positive: stock photo").hexdigest()
    assert events(engine, "bank.entry_") == [
        (
            "bank.entry_disabled",
            f"bank:{bank_id}",
            {"bank_entry_id": first.id, "reason_sha256": digest},
        ),
        ("bank.entry_enabled", f"bank:{bank_id}", {"bank_entry_id": first.id}),
    ]


def test_withdrawal_needs_a_reason_and_the_right_bank(engine: Engine) -> None:
    make_bank(engine, "h", "md5", "spam", ["0" * 32])
    make_bank(engine, "other", "md5", "spam", [])
    (entry,) = _entries(engine, "h")
    with unit_of_work(engine) as uow:
        with pytest.raises(BankError, match="give a --reason"):
            set_entry_enabled(uow, "h", entry.id, False, reason="  ")
        with pytest.raises(BankError, match=f"bank 'other' has no entry {entry.id}"):
            set_entry_enabled(uow, "other", entry.id, False, reason="x")
        with pytest.raises(BankError, match="no bank named 'nope'"):
            set_entry_enabled(uow, "nope", entry.id, True)


def test_csv_import_keeps_provenance_and_reports_lines(engine: Engine) -> None:
    with unit_of_work(engine) as uow:
        result = import_file(
            uow,
            DATA / "provenance.csv",
            "md5s",
            kind="md5",
            category="terrorism",
            source="local list",
        )
    assert (result.added, result.already_present) == (3, 1)
    assert result.rejected == [
        (4, "expected 32 hex digits, got 'not-a-hash'"),
        (5, "tag 'has space' contains whitespace; tags are single words"),
    ]
    rows = [(e.value, e.external_id, e.note, e.tags, e.source) for e in _entries(engine, "md5s")]
    assert rows == [
        (
            "d41d8cd98f00b204e9800998ecf8427e",
            "gifct-0001",
            "benign stand-in",
            ["terrorism", "video"],
            "GIFCT sample",
        ),
        ("0cc175b9c0f1b6a831c399e269772661", None, None, None, "local list"),
        ("8277e0910d750195b448797616e091ad", None, None, None, "Partner list"),
    ]


def test_threatexchange_import_checks_kind_and_opinion(engine: Engine) -> None:
    with unit_of_work(engine) as uow:
        positive = import_file(
            uow, DATA / "te_dataset.csv", "te-pdq", kind="pdq", category="terrorism", source="TE"
        )
    assert positive.added == 3
    assert positive.rejected == [
        (4, "a md5 entry cannot go into bank 'te-pdq', which holds pdq entries"),
        (5, "marked FALSE_POSITIVE (known-benign); import it into a negative bank"),
        (
            6,
            "unknown threatexchange signal type 'trend_query'; expected one of pdq, video_md5, "
            "photo_md5, md5, video_sha256, photo_sha256, sha256, url, raw_text",
        ),
        (7, "expected 64 hex digits, got 'not-a-hash'"),
        (
            8,
            "unknown threatexchange category 'MAYBE'; "
            "expected TRUE_POSITIVE, WORTH_INVESTIGATING or FALSE_POSITIVE",
        ),
    ]
    rows = [(e.value[:8], e.source, e.tags) for e in _entries(engine, "te-pdq")]
    assert rows == [
        ("8b0e7153", "Sample Collab", ["media_type_photo", "violent_extremism"]),
        ("bc0dbc0e", "Sample Collab", None),
        ("f9fcc589", "TE", None),
    ]
    make_bank(engine, "te-benign", "pdq", "terrorism", [], negative=True)
    with unit_of_work(engine) as uow:
        negative = import_file(uow, DATA / "te_dataset.csv", "te-benign")
    assert negative.added == 1
    assert [e.source for e in _entries(engine, "te-benign")] == ["Partner Benign List"]
    assert (2, "marked TRUE_POSITIVE; a negative bank holds only known-benign content") in (
        negative.rejected
    )


def test_pattern_import_names_the_line_of_each_bad_pattern(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "patterns.txt"
    path.write_text(
        "# synthetic spam patterns\n"
        "\\bbuy\\W{1,3}now\\b\n"
        "(free|cheap\n"
        "(a+)+$\n"
        "\n"
        "pills?.*online\n"
        "\\d{3}[-. ]?\\d{4}\n",
        encoding="utf-8",
    )
    with unit_of_work(engine) as uow:
        result = import_file(uow, path, "spam-re", kind="regex", category="spam")
    assert result.added == 2
    assert result.rejected == [
        (3, "not a valid regular expression: missing ), unterminated subpattern at position 0"),
        (
            4,
            "a quantifier inside an unbounded quantifier, such as (a+)+ or (a*b?)*, "
            "can take exponential time; rewrite it without the nesting",
        ),
        (
            6,
            "unbounded .* or .+ scans to the end of the text from every position; "
            "use a bounded repeat such as .{0,50}",
        ),
    ]


def test_text_entries_are_digests_of_normalised_text(engine: Engine, tmp_path: Path) -> None:
    digest = text_hash("Known  SPAM text")
    assert digest is not None
    path = tmp_path / "texts.csv"
    path.write_text(f"value\nknown spam TEXT\nsha256:{digest.upper()}\nsha256:abc\n   \n")
    with unit_of_work(engine) as uow:
        result = import_file(uow, path, "spam-texts", kind="text", category="spam")
    assert (result.added, result.already_present) == (1, 1)
    assert result.rejected == [
        (4, "expected 64 hex digits, got 'abc'"),
        (5, "empty text"),
    ]
    assert [e.value for e in _entries(engine, "spam-texts")] == [digest]


def test_entry_source_defaults_to_the_bank_when_rows_are_added_directly(engine: Engine) -> None:
    bank_id = make_bank(engine, "d", "domain", "spam", [])
    with unit_of_work(engine) as uow:
        uow.session.add(BankEntry(bank_id=bank_id, value="x.example", added_at=uow.now()))
    assert [e.source for e in _entries(engine, "d")] == ["test"]


def test_create_bank_directly(engine: Engine) -> None:
    with unit_of_work(engine) as uow:
        bank = create_bank(uow, "u", kind="url", category="spam")
        assert (bank.source, bank.threshold) == ("local", None)
