"""Negative (known-benign) banks withhold positive matches on the same content."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.signals.test_bank_matching import media_item, pdq_near, text_item
from tests.support.banks import events, load_index, make_bank
from tests.support.spine import context, item, write_jsonl
from vigil.audit.services import verify
from vigil.banks.services import set_bank_enabled
from vigil.ingest.services import ingest_file
from vigil.items.models import Item
from vigil.policy.models import Verdict
from vigil.signals.matchers import MediaHashes, ScanInput
from vigil.signals.models import Signal
from vigil.unit_of_work import unit_of_work

H, OTHER = "ab" * 32, "cd" * 32


def test_a_benign_hash_withholds_positive_matches_on_that_media_only(engine: Engine) -> None:
    make_bank(engine, "terror", "sha256", "terrorism", [H, OTHER])
    make_bank(engine, "benign", "sha256", "terrorism", [H], negative=True)
    index = load_index(engine)
    result = index.scan(
        ScanInput(1, None, [], [MediaHashes(0, None, H), MediaHashes(1, None, OTHER)])
    )
    assert [(s.matched, s.entry.bank if s.entry else "") for s in result.signals] == [
        (OTHER, "terror")
    ]
    (withheld,) = result.suppressed
    assert (withheld.kind, withheld.entry.bank, withheld.by.bank, withheld.where) == (
        "sha256",
        "terror",
        "benign",
        "media #0",
    )
    assert withheld.reason == (
        f"sha256 match of media #0 with entry {withheld.entry.entry_id} in bank terror withheld: "
        f"it also matches known-benign entry {withheld.by.entry_id} in bank benign"
    )


def test_a_benign_pdq_withholds_similar_positive_matches(engine: Engine) -> None:
    meme = pdq_near("0" * 64, 128, seed=3)
    make_bank(engine, "terror-pdq", "pdq", "terrorism", [pdq_near(meme, 6, seed=4)])
    make_bank(engine, "benign-pdq", "pdq", "terrorism", [meme], negative=True, threshold=10)
    index = load_index(engine)
    result = index.scan(media_item(1, pdq=pdq_near(meme, 2, seed=5)))
    assert result.signals == []
    assert [(s.kind, s.by.bank) for s in result.suppressed] == [("pdq", "benign-pdq")]
    assert result.suppressed[0].distance is not None
    # Far from the benign image (beyond its threshold of 10) but within 31 of the positive one.
    far = index.scan(media_item(2, pdq=pdq_near(pdq_near(meme, 6, seed=4), 20, seed=6)))
    assert [s.kind for s in far.signals] == ["pdq"]
    assert far.suppressed == []


def test_a_benign_text_withholds_the_same_text(engine: Engine) -> None:
    make_bank(engine, "copypasta", "text", "hate", ["the synthetic copypasta"])
    make_bank(engine, "quotes", "text", "hate", ["THE synthetic   copypasta"], negative=True)
    result = load_index(engine).scan(text_item(1, "The Synthetic Copypasta"))
    assert result.signals == []
    assert [(s.kind, s.where) for s in result.suppressed] == [("text", "text")]


def test_allow_listed_links_follow_the_most_specific_listing(engine: Engine) -> None:
    make_bank(engine, "spam-domains", "domain", "spam", ["example.com", "evil.example.com"])
    make_bank(engine, "spam-urls", "url", "spam", ["https://docs.example.com/scam"])
    make_bank(engine, "ok-domains", "domain", "spam", ["docs.example.com"], negative=True)
    make_bank(engine, "ok-urls", "url", "spam", ["https://evil.example.com/help"], negative=True)
    index = load_index(engine)

    def outcome(url: str) -> tuple[list[str], list[str]]:
        r = index.scan(ScanInput(1, None, [url], []))
        return sorted(s.matched for s in r.signals), sorted(s.entry.bank for s in r.suppressed)

    # An allow-listed subdomain withholds the parent domain's listing ...
    assert outcome("https://docs.example.com/guide") == ([], ["spam-domains"])
    # ... but not a listed URL on it, which is more specific than any domain.
    assert outcome("https://docs.example.com/scam") == (
        ["https://docs.example.com/scam"],
        ["spam-domains"],
    )
    # An allow-listed URL withholds every domain listing for that link.
    assert outcome("https://evil.example.com/help") == ([], ["spam-domains", "spam-domains"])
    # Elsewhere on the listed subdomain both domain listings hold.
    assert outcome("https://evil.example.com/x") == (["evil.example.com", "example.com"], [])


def test_a_link_withheld_once_still_counts_from_another_link(engine: Engine) -> None:
    make_bank(engine, "spam-domains", "domain", "spam", ["example.com"])
    make_bank(engine, "ok-domains", "domain", "spam", ["docs.example.com"], negative=True)
    r = load_index(engine).scan(
        ScanInput(1, None, ["https://docs.example.com/a", "https://shop.example.com/b"], [])
    )
    assert [s.matched for s in r.signals] == ["example.com"]
    assert r.suppressed == []


def test_benign_phrases_withhold_only_the_terms_they_cover(engine: Engine) -> None:
    make_bank(engine, "threats", "term", "threat_to_life", ["kill"])
    make_bank(engine, "idioms", "term", "threat_to_life", ["kill the lights"], negative=True)
    make_bank(engine, "spam-re", "regex", "spam", [r"\bfree\s{1,3}\w{1,20}"])
    make_bank(engine, "ok-re", "regex", "spam", [r"\bfree\s{1,3}shipping\b"], negative=True)
    index = load_index(engine)
    covered = index.scan(text_item(1, "Kill the lights, we get free shipping"))
    assert covered.signals == []
    assert sorted((s.kind, s.by.bank) for s in covered.suppressed) == [
        ("regex", "ok-re"),
        ("term", "idioms"),
    ]
    uncovered = index.scan(text_item(2, "kill the lights and then kill him; free pills"))
    assert sorted(s.kind for s in uncovered.signals) == ["regex", "term"]
    assert uncovered.suppressed == []


def test_benign_banks_outside_their_rollout_or_disabled_withhold_nothing(engine: Engine) -> None:
    make_bank(engine, "terror", "sha256", "terrorism", [H])
    make_bank(engine, "benign", "sha256", "terrorism", [H], negative=True, rollout=0.0)
    assert len(load_index(engine).match(media_item(1, sha256=H))) == 1
    make_bank(engine, "benign-2", "sha256", "terrorism", [H], negative=True)
    assert load_index(engine).match(media_item(1, sha256=H)) == []
    with unit_of_work(engine) as uow:
        set_bank_enabled(uow, "benign-2", False)
    assert len(load_index(engine).match(media_item(1, sha256=H))) == 1


IMAGE = b"\x89PNG benign stand-in image bytes for suppression tests"
IMAGE_SHA = hashlib.sha256(IMAGE).hexdigest()


def test_suppressed_items_get_no_verdict_end_to_end(engine: Engine, tmp_path: Path) -> None:
    """Through ingest with the default policy: withheld, logged, and treated as unmatched."""
    make_bank(engine, "terror-hashes", "sha256", "terrorism", [IMAGE_SHA, "ef" * 32])
    make_bank(engine, "news-photos", "sha256", "terrorism", [IMAGE_SHA], negative=True)
    data = base64.b64encode(IMAGE).decode()
    records = [
        item("news", "photo from the scene", media=[{"data_b64": data, "mime": "image/png"}]),
        item("other", "look", media=[{"sha256": "ef" * 32, "url": "https://cdn.example/y.png"}]),
    ]
    path = write_jsonl(tmp_path / "items.jsonl", records)
    summary = ingest_file(engine, path, context(engine))
    o = summary.outcome
    assert (o.stored, o.signals, o.suppressed, o.verdicts, o.actions) == (2, 1, 1, 1, 1)
    with Session(engine) as s:
        items = {i.platform_item_id: i for i in s.scalars(select(Item))}
        news = items["news"]
        assert s.scalar(select(func.count()).where(Verdict.item_id == news.id)) == 0
        assert s.scalar(select(func.count()).where(Signal.item_id == news.id)) == 0
        assert news.status == "visible"
        # Nothing harmful matched, so the privacy default drops the content as for any clean item.
        assert not news.content_retained
        assert items["other"].status == "removed"
        assert verify(s).ok
    (suppressed,) = events(engine, "signal.suppressed")
    _, subject, payload = suppressed
    assert subject == f"item:{news.id}"
    assert payload["kind"] == "sha256"
    assert payload["where"] == "media #0"
    assert {payload["bank_id"], payload["by_bank_id"]} == {1, 2}
    # Identifiers only: neither the item's text, its platform id nor the media hash.
    body = json.dumps(payload)
    for content in ("photo from the scene", '"news"', IMAGE_SHA):
        assert content not in body
