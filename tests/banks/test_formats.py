"""Reading bank files: which format, which line, and what each line says."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.banks.formats import BankFileError, Format, RawEntry, detect_format, read_entries

DATA = Path(__file__).parent / "data"


def test_formats_are_detected_from_header_and_suffix(tmp_path: Path) -> None:
    assert detect_format(DATA / "te_dataset.csv") is Format.TE
    assert detect_format(DATA / "provenance.csv") is Format.CSV
    plain = tmp_path / "values.txt"
    plain.write_text("# comment\nabc\n")
    assert detect_format(plain) is Format.TXT
    headed = tmp_path / "values.list"
    headed.write_text("value,tags\nabc,x\n")
    assert detect_format(headed) is Format.CSV


def test_plain_lists_skip_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "terms.txt"
    path.write_text("# synthetic\n\n  first term  \n#second\nthird\n")
    assert list(read_entries(path)) == [RawEntry(3, "first term"), RawEntry(5, "third")]


def test_csv_rows_carry_provenance_and_line_numbers() -> None:
    rows = list(read_entries(DATA / "provenance.csv"))
    assert [r.line for r in rows] == [2, 3, 4, 5, 6, 7]
    first = rows[0]
    assert first == RawEntry(
        2,
        "D41D8CD98F00B204E9800998ECF8427E",
        external_id="gifct-0001",
        note="benign stand-in",
        tags=["terrorism", "video"],
        source="GIFCT sample",
    )
    assert rows[1].source is None
    assert rows[1].tags is None
    assert rows[3].error == "tag 'has space' contains whitespace; tags are single words"
    assert rows[4].tags is None
    assert rows[4].source == "Partner list"


def test_csv_with_a_misspelt_column_is_refused_as_a_whole(tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    path.write_text("value,extrnal_id\nabc,1\n")
    with pytest.raises(BankFileError) as exc:
        list(read_entries(path))
    assert str(exc.value) == (
        f"{path}:1: unknown column 'extrnal_id'; expected some of "
        "value, external_id, note, tags, source"
    )


def test_csv_without_a_value_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    path.write_text("external_id,note\n1,x\n")
    with pytest.raises(BankFileError, match=r"bank\.csv:1: missing column 'value'"):
        list(read_entries(path))


def test_threatexchange_dataset_rows() -> None:
    rows = list(read_entries(DATA / "te_dataset.csv"))
    assert [r.line for r in rows] == list(range(2, 10))
    assert rows[0].kind == "pdq"
    assert rows[0].source == "Sample Collab"
    assert rows[0].opinion == "TRUE_POSITIVE"
    assert rows[0].tags == ["media_type_photo", "violent_extremism"]
    assert rows[2].kind == "md5"
    assert rows[3].opinion == "FALSE_POSITIVE"
    assert rows[4].error is not None
    assert rows[4].error.startswith("unknown threatexchange signal type 'trend_query'; expected")
    assert rows[6].error == (
        "unknown threatexchange category 'MAYBE'; "
        "expected TRUE_POSITIVE, WORTH_INVESTIGATING or FALSE_POSITIVE"
    )
    assert rows[7].source is None  # no collab: the bank's source applies


def test_an_explicit_format_overrides_detection(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("value\n")
    assert list(read_entries(path, Format.TXT)) == [RawEntry(1, "value")]
