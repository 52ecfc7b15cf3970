"""Data minimisation under the default policy: unmatched content is dropped, events never hold
content, and nothing from a private audience is stored."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.support.spine import add_bank, context, item, write_jsonl
from vigil.audit.models import Event
from vigil.banks.normalize import normalise_text
from vigil.ingest.services import ingest_file
from vigil.items.models import Account, Item, Media

HARMFUL_IMAGE = b"\x89PNG benign stand-in for a banked image"
PLAIN_IMAGE = b"\x89PNG an ordinary holiday picture stand-in"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # noqa: S324


def _records() -> list[dict[str, Any]]:
    return [
        item("m-term", "[SYNTHETIC TEST CONTENT] I will hurt you, said the post"),
        item("u-text", "Grüße aus München, a quiet afternoon by the river"),
        item(
            "m-hash",
            "holiday snaps",
            media=[{"data_b64": _b64(HARMFUL_IMAGE), "mime": "image/png"}],
        ),
        item(
            "u-media",
            "my cat sleeping on the keyboard",
            urls=["https://blog.example/cats"],
            media=[
                {"data_b64": _b64(PLAIN_IMAGE), "mime": "image/png"},
                {"url": "https://cdn.example/other.png", "sha256": "ab" * 32, "md5": "cd" * 16},
            ],
        ),
        item("u-urls", None, urls=["https://news.example/story?id=5"]),
        item(
            "m-url",
            "great deal at https://shop.cheap-pills.example/buy today",
            author_country="US",
            author_id="acct-us",
        ),
        item("u-profile", None, kind="profile"),
        {**item("p-private", "secret plans between two friends"), "audience": "private"},
        {
            **item("p-dm", "a direct message nobody else sees", author_id="acct-dm-only"),
            "audience": "direct",
        },
        item("u-last", "the weather is mild; nothing else to report"),
    ]


def _ingest(engine: Engine, tmp_path: Path) -> dict[str, dict[str, Any]]:
    add_bank(engine, tmp_path, "threats", "term", "threat_to_life", ["i will hurt you"])
    add_bank(engine, tmp_path, "terror", "sha256", "terrorism", [_sha(HARMFUL_IMAGE)])
    add_bank(engine, tmp_path, "spam", "domain", "spam", ["cheap-pills.example"])
    records = _records()
    path = write_jsonl(tmp_path / "items.jsonl", records)
    summary = ingest_file(engine, path, context(engine), batch_size=3)
    assert summary.rejected == 2
    assert summary.outcome.stored == len(records) - 2
    return {r["id"]: r for r in records}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_unmatched_items_keep_only_hashes(engine: Engine, tmp_path: Path) -> None:
    records = _ingest(engine, tmp_path)
    with Session(engine) as s:
        items = {i.platform_item_id: i for i in s.scalars(select(Item))}
        media = {
            (m.item_id, m.position): m for m in s.scalars(select(Media).order_by(Media.item_id))
        }
    unmatched = {pid for pid in items if pid.startswith("u-")}
    matched = {pid for pid in items if pid.startswith("m-")}
    assert unmatched | matched == set(items)
    assert unmatched == {"u-text", "u-media", "u-urls", "u-profile", "u-last"}
    for pid in unmatched:
        row, record = items[pid], records[pid]
        assert row.scan_state == "scanned", pid
        assert row.text is None, pid
        assert row.urls is None, pid
        assert not row.content_retained, pid
        assert row.content_dropped_at is not None, pid
        if record.get("text") is not None:
            expected = hashlib.sha256(normalise_text(record["text"]).encode()).hexdigest()
            assert row.text_sha256 == expected, pid
        else:
            assert row.text_sha256 is None, pid
        for position, m in enumerate(record.get("media", [])):
            stored = media[(row.id, position)]
            assert stored.url is None, (pid, position)
            assert stored.data is None, (pid, position)
            if "data_b64" in m:
                raw = base64.b64decode(m["data_b64"])
                assert (stored.sha256, stored.md5) == (_sha(raw), _md5(raw)), pid
                assert stored.size == len(raw)
            else:
                assert (stored.sha256, stored.md5) == (m["sha256"], m["md5"]), pid
    # The contrast: items that raised a signal keep their content for review and appeal.
    for pid in matched:
        assert items[pid].content_retained, pid
        assert items[pid].text == records[pid]["text"], pid
    hash_item = items["m-hash"]
    assert media[(hash_item.id, 0)].data == HARMFUL_IMAGE


def test_item_events_never_contain_text(engine: Engine, tmp_path: Path) -> None:
    records = _ingest(engine, tmp_path)
    texts = {pid: r["text"] for pid, r in records.items() if r.get("text")}
    with Session(engine) as s:
        events = list(
            s.scalars(
                select(Event)
                .where(Event.type.in_(["item.ingested", "item.scanned"]))
                .order_by(Event.seq)
            )
        )
    stored_count = len(records) - 2
    assert [e.type for e in events].count("item.ingested") == stored_count
    assert [e.type for e in events].count("item.scanned") == stored_count
    for event in events:
        decoded = list(_strings(json.loads(event.body)))
        for pid, text in texts.items():
            assert text not in event.body, (event.seq, event.type, pid)
            assert not any(text in s for s in decoded), (event.seq, event.type, pid)
            assert normalise_text(text) not in event.body, (event.seq, event.type, pid)


def test_private_items_are_never_stored(engine: Engine, tmp_path: Path) -> None:
    records = _ingest(engine, tmp_path)
    private = {pid for pid, r in records.items() if r.get("audience", "public") != "public"}
    assert private == {"p-private", "p-dm"}
    with Session(engine) as s:
        stored = set(s.scalars(select(Item.platform_item_id)))
        accounts = set(s.scalars(select(Account.platform_account_id)))
        bodies = list(s.scalars(select(Event.body)))
    assert not stored & private
    assert "acct-dm-only" not in accounts  # an author seen only in private is not recorded
    for pid in private:
        assert not any(f'"{pid}"' in body for body in bodies), pid
        assert not any(records[pid]["text"] in body for body in bodies), pid


def test_private_text_never_reaches_the_rejects_file(engine: Engine, tmp_path: Path) -> None:
    secret = "secret plans between two friends"
    path = write_jsonl(tmp_path / "items.jsonl", [{**item("dm", secret), "audience": "private"}])
    summary = ingest_file(engine, path, context(engine))
    assert summary.rejected == 1
    rejects = summary.rejects_path.read_text(encoding="utf-8")
    assert '"line": 1' in rejects
    assert "audience" in rejects
    assert secret not in rejects
