"""Export writes what import reads back as the same entries, in each format."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.support.banks import make_bank
from vigil.banks.formats import Format, RawEntry
from vigil.banks.models import Bank, BankEntry
from vigil.banks.services import BankError, export_bank, import_file, set_entry_enabled
from vigil.unit_of_work import unit_of_work

DATA = Path(__file__).parent / "data"
Entry = tuple[str, str | None, str | None, list[str] | None, str]


def _export(engine: Engine, name: str, fmt: Format) -> str:
    out = io.StringIO()
    with Session(engine) as s:
        export_bank(s, name, out, fmt)
    return out.getvalue()


def _entries(engine: Engine, name: str) -> list[Entry]:
    with Session(engine) as s:
        rows = s.scalars(
            select(BankEntry).join(Bank).where(Bank.name == name).order_by(BankEntry.id)
        )
        return [(e.value, e.external_id, e.note, e.tags, e.source) for e in rows]


def _round_trip(
    engine: Engine, tmp_path: Path, name: str, fmt: Format, **settings: object
) -> tuple[str, str]:
    """Export ``name``, import the file into a fresh bank of the same kind, export that."""
    first = _export(engine, name, fmt)
    path = tmp_path / f"{name}.{fmt.value}"
    path.write_text(first, encoding="utf-8")
    with Session(engine) as s:
        original = s.scalars(select(Bank).where(Bank.name == name)).one()
        kind, category, source = original.kind, original.category, original.source
    make_bank(engine, f"{name}-copy", kind, category, [], **settings)
    with unit_of_work(engine) as uow:
        result = import_file(uow, path, f"{name}-copy", fmt=fmt)
    assert result.rejected == []
    assert source == "test"
    return first, _export(engine, f"{name}-copy", fmt)


def test_csv_round_trips_every_provenance_field(engine: Engine, tmp_path: Path) -> None:
    with unit_of_work(engine) as uow:
        import_file(
            uow, DATA / "provenance.csv", "md5s", kind="md5", category="terrorism", source="test"
        )
    first, second = _round_trip(engine, tmp_path, "md5s", Format.CSV)
    assert first == second
    assert _entries(engine, "md5s") == _entries(engine, "md5s-copy")
    assert first.splitlines()[:2] == [
        "value,external_id,note,tags,source",
        "d41d8cd98f00b204e9800998ecf8427e,gifct-0001,benign stand-in,terrorism;video,GIFCT sample",
    ]


def test_csv_round_trips_patterns_with_commas_and_quotes(engine: Engine, tmp_path: Path) -> None:
    patterns = [r'say\W{1,3}"hi"', r"\d{1,3},\d{3}", r"#\w{2,20}"]
    make_bank(engine, "re", "regex", "spam", patterns)
    first, second = _round_trip(engine, tmp_path, "re", Format.CSV)
    assert first == second
    assert [e[0] for e in _entries(engine, "re-copy")] == patterns


def test_plain_lists_round_trip_values(engine: Engine, tmp_path: Path) -> None:
    make_bank(engine, "terms", "term", "hate", ["placeholder slur one", "zorblax"])
    first, second = _round_trip(engine, tmp_path, "terms", Format.TXT)
    assert first.splitlines()[1:] == second.splitlines()[1:] == ["placeholder slur one", "zorblax"]
    assert first.splitlines()[0] == "# vigil bank terms: term, category hate"
    assert _entries(engine, "terms") == _entries(engine, "terms-copy")


def test_text_banks_export_digests_that_import_as_themselves(
    engine: Engine, tmp_path: Path
) -> None:
    make_bank(engine, "texts", "text", "spam", ["a known spam text", "another one"])
    first, second = _round_trip(engine, tmp_path, "texts", Format.TXT)
    assert first.splitlines()[1:] == second.splitlines()[1:]
    assert all(line.startswith("sha256:") for line in first.splitlines()[1:])
    assert "spam" not in first.splitlines()[1]  # the text itself never leaves
    assert _entries(engine, "texts") == _entries(engine, "texts-copy")


def test_threatexchange_round_trips_values_sources_and_tags(engine: Engine, tmp_path: Path) -> None:
    with unit_of_work(engine) as uow:
        import_file(
            uow, DATA / "te_dataset.csv", "pdqs", kind="pdq", category="terrorism", source="test"
        )
    first, second = _round_trip(engine, tmp_path, "pdqs", Format.TE)
    assert first == second
    assert _entries(engine, "pdqs") == _entries(engine, "pdqs-copy")
    assert first.splitlines() == [
        "collab,signal_type,signal_str,category,tags",
        "Sample Collab,pdq,8b0e7153bf7c3706d85c524e440066559a6656c90bd5482a90a29b9fa5ff5180,"
        "TRUE_POSITIVE,media_type_photo violent_extremism",
        "Sample Collab,pdq,bc0dbc0e15637ebb8e3b91d26ab4a829a95249f512c17b8ed411fa644d35db41,"
        "TRUE_POSITIVE,",
        "test,pdq,f9fcc589f8d0a9f94f03e7914c0f87f17f8499ff30499a90ebb4108e360ddfcf,TRUE_POSITIVE,",
    ]


def test_negative_banks_export_as_false_positive(engine: Engine, tmp_path: Path) -> None:
    make_bank(engine, "benign", "md5", "terrorism", ["a" * 32], negative=True)
    first, second = _round_trip(engine, tmp_path, "benign", Format.TE, negative=True)
    assert first == second
    assert first.splitlines()[1] == f"test,video_md5,{'a' * 32},FALSE_POSITIVE,"


def test_withdrawn_entries_are_not_exported(engine: Engine) -> None:
    make_bank(engine, "h", "sha256", "spam", ["a" * 64, "b" * 64])
    with Session(engine) as s:
        first_id = s.scalars(select(BankEntry.id).order_by(BankEntry.id)).first()
    assert first_id is not None
    with unit_of_work(engine) as uow:
        set_entry_enabled(uow, "h", first_id, False, reason="withdrawn by the source")
    assert _export(engine, "h", Format.CSV).splitlines()[1:] == [f"{'b' * 64},,,,test"]


def test_formats_that_cannot_carry_a_bank_say_so(engine: Engine) -> None:
    make_bank(engine, "terms", "term", "hate", ["zorblax"])
    make_bank(engine, "re", "regex", "spam", [RawEntry(1, r"#\w{2,20}")])
    with pytest.raises(BankError, match="threatexchange has no signal type for term banks"):
        _export(engine, "terms", Format.TE)
    with pytest.raises(BankError, match="cannot be written as a plain list line"):
        _export(engine, "re", Format.TXT)
    with pytest.raises(BankError, match="no bank named 'missing'"):
        _export(engine, "missing", Format.CSV)
