"""Ingest on SQLite and PostgreSQL: rejects with line numbers, idempotency, the spine end to end."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.support.spine import add_bank, context, item, write_jsonl
from vigil.actions.models import Action
from vigil.audit.models import Event
from vigil.audit.services import verify
from vigil.cases.models import Case
from vigil.ingest.services import ingest_file
from vigil.items.models import Item, Media
from vigil.statements.models import StatementOfReasons

IMAGE = b"\x89PNG benign stand-in image bytes for tests"
IMAGE_SHA = hashlib.sha256(IMAGE).hexdigest()


def _count(engine: Engine, stmt: object) -> int:
    with Session(engine) as s:
        return int(s.scalar(stmt) or 0)  # type: ignore[call-overload]


def test_bad_lines_go_to_rejects_with_line_and_field(engine: Engine, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "items.jsonl",
        [
            item("ok-1"),
            "{not json",
            {k: v for k, v in item("no-author").items() if k != "author_id"},
            {**item("naive"), "created_at": "2026-10-01T12:00:00"},
            {**item("private"), "audience": "private"},
            item("ok-2"),
            {**item("bad-kind"), "kind": "story"},
        ],
    )
    summary = ingest_file(engine, path, context(engine))
    assert summary.outcome.stored == 2
    assert summary.rejected == 5
    rejects = [json.loads(line) for line in summary.rejects_path.read_text().splitlines()]
    by_line = {r["line"]: r["reason"] for r in rejects}
    assert set(by_line) == {2, 3, 4, 5, 7}
    assert "invalid JSON" in by_line[2]
    assert by_line[3].startswith("author_id:")
    assert "created_at" in by_line[4]
    assert "timezone" in by_line[4]
    assert "private" in by_line[5]
    assert by_line[7].startswith("kind:")


def test_ingesting_twice_stores_nothing_twice(engine: Engine, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "items.jsonl", [item(f"p{i}", f"post number {i}") for i in range(25)]
    )
    ctx = context(engine)
    first = ingest_file(engine, path, ctx, batch_size=10)
    events_after_first = _count(engine, select(func.count()).select_from(Event))
    second = ingest_file(engine, path, ctx, batch_size=10)
    assert first.outcome.stored == 25
    assert second.outcome.stored == 0
    assert second.outcome.duplicates == 25
    assert _count(engine, select(func.count()).select_from(Item)) == 25
    assert _count(engine, select(func.count()).select_from(Event)) == events_after_first


def test_spine_end_to_end(engine: Engine, tmp_path: Path) -> None:
    add_bank(engine, tmp_path, "terror-hashes", "sha256", "terrorism", [IMAGE_SHA])
    add_bank(engine, tmp_path, "threat-terms", "term", "threat_to_life", ["i will hurt you"])
    add_bank(engine, tmp_path, "spam-domains", "domain", "spam", ["cheap-pills.example"])
    records = [
        item(
            "hash-eu",
            "look at this",
            media=[{"data_b64": base64.b64encode(IMAGE).decode(), "mime": "image/png"}],
        ),
        item("threat", "[SYNTHETIC TEST CONTENT] I will hurt you tomorrow"),
        item(
            "spam-us",
            "buy now https://shop.cheap-pills.example/deal",
            author_id="acct-us",
            author_country="US",
        ),
        item(
            "clean",
            "a lovely day for gardening",
            media=[{"url": "https://cdn.example/x.png", "sha256": "ab" * 32}],
        ),
    ]
    summary = ingest_file(engine, write_jsonl(tmp_path / "items.jsonl", records), context(engine))
    o = summary.outcome
    assert (o.stored, o.signals, o.verdicts, o.cases_opened, o.actions, o.content_dropped) == (
        4,
        3,
        3,
        1,
        2,
        1,
    )
    with Session(engine) as s:
        items = {i.platform_item_id: i for i in s.scalars(select(Item))}
        assert items["hash-eu"].status == "removed"
        assert items["spam-us"].status == "restricted"
        assert items["threat"].status == "visible"
        case = s.scalars(select(Case)).one()
        assert case.item_id == items["threat"].id
        assert case.status == "open"
        actions = {a.item_id: a for a in s.scalars(select(Action))}
        assert actions[items["hash-eu"].id].automated
        # Only the EU user's restriction gets a statement of reasons.
        statements = list(s.scalars(select(StatementOfReasons)))
        assert [st.item_id for st in statements] == [items["hash-eu"].id]
        # The privacy default: matched items keep content, the unmatched one keeps only hashes.
        assert items["threat"].text is not None
        clean = items["clean"]
        assert clean.text is None
        assert clean.urls is None
        assert not clean.content_retained
        assert clean.text_sha256 is not None
        media = s.scalars(select(Media).where(Media.item_id == clean.id)).one()
        assert media.url is None
        assert media.data is None
        assert media.sha256 == "ab" * 32
        hash_media = s.scalars(select(Media).where(Media.item_id == items["hash-eu"].id)).one()
        assert hash_media.data == IMAGE
        assert verify(s).ok
        types = list(s.scalars(select(Event.type).order_by(Event.seq)))
    for expected in (
        "item.ingested",
        "signal.raised",
        "verdict.reached",
        "case.opened",
        "action.applied",
        "statement.issued",
        "item.scanned",
    ):
        assert expected in types, expected
