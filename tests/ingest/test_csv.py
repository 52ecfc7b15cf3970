"""CSV ingest: flat columns become records, bad rows are rejected with their line number."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.support.spine import BASE_TIME, add_bank, context
from vigil.actions.models import Action
from vigil.ingest.services import ingest_file
from vigil.items.models import Item, Media
from vigil.policy.defaults import default_policy_text
from vigil.statements.models import StatementOfReasons

HEADER = [
    "id",
    "kind",
    "author_id",
    "author_country",
    "created_at",
    "text",
    "urls",
    "media_sha256",
    "media_md5",
    "media_url",
]
IMAGE = b"\x89PNG benign stand-in image bytes for csv tests"
IMAGE_SHA = hashlib.sha256(IMAGE).hexdigest()
IMAGE_MD5 = hashlib.md5(IMAGE).hexdigest()  # noqa: S324


def _row(pid: str, text: str = "", **cells: str) -> list[str]:
    values = {
        "id": pid,
        "kind": "post",
        "author_id": "acct-1",
        "author_country": "DE",
        "created_at": BASE_TIME,
        "text": text,
        **cells,
    }
    return [values.get(col, "") for col in HEADER]


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _keep_policy(tmp_path: Path) -> Path:
    """The default policy, but keeping unmatched content so stored fields can be inspected."""
    text = default_policy_text()
    assert "unmatched_content: drop" in text
    path = tmp_path / "keep.yaml"
    path.write_text(text.replace("unmatched_content: drop", "unmatched_content: keep"))
    return path


def _rejects(path: Path) -> dict[int, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {r["line"]: r["reason"] for r in map(json.loads, lines)}


def test_valid_rows_are_stored_with_urls_and_one_media(engine: Engine, tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "items.csv",
        [
            _row(
                "with-media",
                "two links and a picture",
                urls="https://a.example/one  https://b.example/two",
                media_sha256=IMAGE_SHA.upper(),
                media_md5=IMAGE_MD5,
                media_url="https://cdn.example/pic.png",
            ),
            _row("multi-line", "first line\nsecond line"),
            _row("urls-only", urls="https://c.example/three"),
        ],
    )
    summary = ingest_file(engine, path, context(engine, _keep_policy(tmp_path)))
    assert summary.rejected == 0, summary.rejects_path.read_text()
    assert summary.outcome.stored == 3
    with Session(engine) as s:
        items = {i.platform_item_id: i for i in s.scalars(select(Item))}
        media_item = items["with-media"]
        assert media_item.urls == ["https://a.example/one", "https://b.example/two"]
        assert media_item.text == "two links and a picture"
        assert media_item.account.country == "DE"
        media = list(s.scalars(select(Media).where(Media.item_id == media_item.id)))
        assert len(media) == 1
        assert media[0].position == 0
        assert media[0].sha256 == IMAGE_SHA  # lower-cased by validation
        assert media[0].md5 == IMAGE_MD5
        assert media[0].url == "https://cdn.example/pic.png"
        assert media[0].data is None
        assert items["multi-line"].text == "first line\nsecond line"
        assert items["multi-line"].urls is None
        assert not list(s.scalars(select(Media).where(Media.item_id == items["multi-line"].id)))
        assert items["urls-only"].text is None
        assert items["urls-only"].urls == ["https://c.example/three"]


def test_bad_rows_are_rejected_with_their_line(engine: Engine, tmp_path: Path) -> None:
    rows = [
        _row("ok-1", "fine"),  # line 2
        _row("quoted", "spans\nthree\nlines"),  # lines 3-5
        _row("naive-date", "x", created_at="2026-10-01T12:00:00"),  # line 6
        [*_row("too-many", "y"), "surplus"],  # line 7
        _row("bad-kind", "also\nmulti-line", kind="story"),  # lines 8-9
        _row("bad-hash", "z", media_sha256="not-a-hash"),  # line 10
        _row("ok-2", "fine again"),  # line 11
    ]
    path = _write_csv(tmp_path / "items.csv", rows)
    assert len(path.read_text(encoding="utf-8").splitlines()) == 11
    summary = ingest_file(engine, path, context(engine))
    assert summary.outcome.stored == 3
    by_line = _rejects(summary.rejects_path)
    # csv.DictReader.line_num: a record is numbered by its LAST physical line (header = line 1),
    # so the multi-line bad-kind row spanning lines 8-9 is reported as 9, and the quoted row
    # spanning 3-5 does not shift the rows after it.
    assert set(by_line) == {6, 7, 9, 10}, by_line
    assert "created_at" in by_line[6]
    assert "timezone" in by_line[6]
    assert by_line[7] == "more cells than header columns"
    assert by_line[9].startswith("kind:")
    assert by_line[10].startswith("media.0.sha256:")
    with Session(engine) as s:
        stored = set(s.scalars(select(Item.platform_item_id)))
    assert stored == {"ok-1", "quoted", "ok-2"}


def test_hash_only_media_matches_a_bank_and_is_removed(engine: Engine, tmp_path: Path) -> None:
    add_bank(engine, tmp_path, "terror-hashes", "sha256", "terrorism", [IMAGE_SHA])
    path = _write_csv(
        tmp_path / "items.csv",
        [
            _row("hash-only", media_sha256=IMAGE_SHA),
            _row("other-hash", media_sha256="cd" * 32),
        ],
    )
    summary = ingest_file(engine, path, context(engine))
    o = summary.outcome
    assert summary.rejected == 0, summary.rejects_path.read_text()
    assert (o.stored, o.signals, o.verdicts, o.actions, o.cases_opened) == (2, 1, 1, 1, 0)
    with Session(engine) as s:
        items = {i.platform_item_id: i for i in s.scalars(select(Item))}
        matched = items["hash-only"]
        assert matched.text is None
        assert matched.status == "removed"
        media = s.scalars(select(Media).where(Media.item_id == matched.id)).one()
        assert (media.url, media.data, media.sha256) == (None, None, IMAGE_SHA)
        action = s.scalars(select(Action).where(Action.item_id == matched.id)).one()
        assert action.kind == "remove_content"
        assert action.automated
        assert action.category == "terrorism"
        statement = s.scalars(
            select(StatementOfReasons).where(StatementOfReasons.action_id == action.id)
        ).one()
        assert statement.body["category"] == "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
        assert items["other-hash"].status == "visible"


def test_csv_with_byte_order_mark(engine: Engine, tmp_path: Path) -> None:
    p = tmp_path / "excel.csv"
    p.write_bytes(
        (
            "\ufeffid,kind,author_id,created_at,text\r\n"
            'a,post,u1,2026-10-01T12:00:00+00:00,"hi\r\nthere"\r\n'
            "b,post,u1,2026-10-01T12:00:00+00:00,yo\r\n"
        ).encode()
    )
    summary = ingest_file(engine, p, context(engine))
    assert summary.rejected == 0, summary.outcome.rejected
    assert summary.outcome.stored == 2


def test_pdq_only_media_columns_match_a_pdq_bank(engine: Engine, tmp_path: Path) -> None:
    banked = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
    near = f"{int(banked, 16) ^ 0b111:064x}"  # three bits away
    add_bank(engine, tmp_path, "terror-pdq", "pdq", "terrorism", [banked])
    p = tmp_path / "pdq.csv"
    p.write_text(
        "id,kind,author_id,created_at,media_pdq,media_pdq_quality\n"
        f"near,post,acct-1,{BASE_TIME},{near.upper()},88\n"
        f"flat,post,acct-1,{BASE_TIME},{banked},12\n"
        f"bad,post,acct-1,{BASE_TIME},{banked[:-1]},88\n",
        encoding="utf-8",
    )
    summary = ingest_file(engine, p, context(engine))
    assert summary.outcome.stored == 2
    assert summary.outcome.signals == 1  # the flat one's hash is below quality 50
    assert "media.0.pdq" in _rejects(summary.rejects_path)[4]
    with Session(engine) as s:
        rows = s.execute(
            select(Item.platform_item_id, Media.pdq).join(Media, Media.item_id == Item.id)
        )
        pdqs = {pid: pdq for pid, pdq in rows}
    assert pdqs == {"near": near, "flat": None}
