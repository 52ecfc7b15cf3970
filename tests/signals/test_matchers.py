"""The bank index on both backends: URLs, domains, terms and hashes, and what never matches."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from tests.support.spine import add_bank
from vigil.banks.models import Bank, BankEntry
from vigil.signals.matchers import BankIndex, MediaHashes, ScanInput, SignalDraft

ITEM_ID = 42


def _index(engine: Engine) -> BankIndex:
    with Session(engine) as session:
        return BankIndex.load(session)


def _scan(
    text: str | None = None, urls: Sequence[str] = (), media: Sequence[MediaHashes] = ()
) -> ScanInput:
    return ScanInput(ITEM_ID, text, list(urls), list(media))


def _matched(found: list[SignalDraft]) -> list[tuple[str, str, str]]:
    return sorted((d.kind, d.matched, d.entry.bank if d.entry else "") for d in found)


def test_same_url_in_two_banks_gives_two_signals(engine: Engine, tmp_path: Path) -> None:
    add_bank(engine, tmp_path, "phish-a", "url", "spam", ["https://login.bad.example/verify"])
    add_bank(engine, tmp_path, "phish-b", "url", "terrorism", ["http://login.bad.example/verify/"])
    found = _index(engine).match(_scan(urls=["https://login.bad.example/verify"]))
    assert _matched(found) == [
        ("url", "https://login.bad.example/verify", "phish-a"),
        ("url", "https://login.bad.example/verify", "phish-b"),
    ]
    assert {d.entry.category for d in found if d.entry} == {"spam", "terrorism"}
    assert all(d.item_id == ITEM_ID for d in found)
    assert {d.reason for d in found} == {
        "URL https://login.bad.example/verify is in bank phish-a",
        "URL https://login.bad.example/verify is in bank phish-b",
    }


def test_domain_matches_subdomains_not_lookalikes(engine: Engine, tmp_path: Path) -> None:
    add_bank(engine, tmp_path, "spam-domains", "domain", "spam", ["https://WWW.Example.com/"])
    index = _index(engine)
    for url in (
        "https://example.com",
        "http://deep.shop.example.com/deal?x=1",
        "https://EXAMPLE.COM:443/",
    ):
        assert _matched(index.match(_scan(urls=[url]))) == [
            ("domain", "example.com", "spam-domains")
        ], url
    for url in (
        "https://evil-example.com/",
        "https://notexample.com/",
        "https://example.com.evil.net/",
        "https://example.co/",
    ):
        assert index.match(_scan(urls=[url])) == [], url


def test_urls_written_in_text_match(engine: Engine, tmp_path: Path) -> None:
    add_bank(engine, tmp_path, "bad-urls", "url", "spam", ["https://bad.example/landing"])
    add_bank(engine, tmp_path, "bad-domains", "domain", "spam", ["pills.example"])
    index = _index(engine)
    found = index.match(
        _scan(text="Go to https://bad.example/landing. Or (www.cheap.pills.example/buy)!")
    )
    assert _matched(found) == [
        ("domain", "pills.example", "bad-domains"),
        ("url", "https://bad.example/landing", "bad-urls"),
    ]
    assert index.match(_scan(text="bad.example/landing without a scheme")) == []


def test_normalised_url_variants_still_match(engine: Engine, tmp_path: Path) -> None:
    add_bank(engine, tmp_path, "bad-urls", "url", "spam", ["https://bad.example/landing?ref=7"])
    index = _index(engine)
    variants = [
        "HTTP://WWW.BAD.EXAMPLE/landing?ref=7",
        "https://bad.example/landing/?utm_source=news&ref=7&fbclid=abc",
        "https://www.bad.example:443/landing?gclid=x&ref=7#section",
    ]
    for url in variants:
        assert _matched(index.match(_scan(urls=[url]))) == [
            ("url", "https://bad.example/landing?ref=7", "bad-urls")
        ], url
    # The path is case-sensitive and other query values are part of identity.
    assert index.match(_scan(urls=["https://bad.example/LANDING?ref=7"])) == []
    assert index.match(_scan(urls=["https://bad.example/landing?ref=8"])) == []


def test_terms_are_whole_word_case_insensitive_and_counted_once(
    engine: Engine, tmp_path: Path
) -> None:
    add_bank(engine, tmp_path, "threats", "term", "threat_to_life", ["I will  hurt you"])
    index = _index(engine)
    found = index.match(_scan(text="I WILL HURT YOU. i will hurt you!\nI will\thurt   you"))
    assert _matched(found) == [("term", "i will hurt you", "threats")]
    assert found[0].reason == "text contains term 'i will hurt you' from bank threats"
    for text in (
        "i will hurt yourself",  # last word only partly present
        "hi will hurt you",  # first word only partly present
        "i will hurt you_all",  # underscore is a word character
        "i will not hurt you",
    ):
        assert index.match(_scan(text=text)) == [], text


def test_disabled_bank_and_disabled_entry_never_match(engine: Engine, tmp_path: Path) -> None:
    add_bank(engine, tmp_path, "off-bank", "term", "hate", ["grobnit"])
    add_bank(engine, tmp_path, "half-off", "term", "hate", ["zorblax", "quibbit"])
    text = "grobnit zorblax quibbit"
    assert _matched(_index(engine).match(_scan(text=text))) == [
        ("term", "grobnit", "off-bank"),
        ("term", "quibbit", "half-off"),
        ("term", "zorblax", "half-off"),
    ]
    with Session(engine) as s:
        s.execute(update(Bank).where(Bank.name == "off-bank").values(enabled=False))
        s.execute(update(BankEntry).where(BankEntry.value == "zorblax").values(enabled=False))
        s.commit()
    index = _index(engine)
    assert index.entries == 1
    assert _matched(index.match(_scan(text=text))) == [("term", "quibbit", "half-off")]
    with Session(engine) as s:
        s.execute(update(BankEntry).values(enabled=False))
        s.commit()
    index = _index(engine)
    assert index.entries == 0
    assert index.match(_scan(text=text)) == []


def test_md5_and_sha256_match_and_name_the_media_position(engine: Engine, tmp_path: Path) -> None:
    data = b"benign stand-in bytes for hash matching"
    sha, md5 = hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest()  # noqa: S324
    add_bank(engine, tmp_path, "sha-bank", "sha256", "terrorism", [sha.upper()])
    add_bank(engine, tmp_path, "md5-bank", "md5", "terrorism", [md5])
    with Session(engine) as s:
        entry_ids = {value: eid for value, eid in s.execute(select(BankEntry.value, BankEntry.id))}
    media = [
        MediaHashes(0, "0" * 32, "1" * 64),
        MediaHashes(1, md5, sha),
        MediaHashes(2, None, None),
    ]
    found = _index(engine).match(_scan(media=media))
    assert _matched(found) == [("md5", md5, "md5-bank"), ("sha256", sha, "sha-bank")]
    by_kind = {d.kind: d for d in found}
    assert by_kind["sha256"].reason == (
        f"SHA256 of media #1 equals entry {entry_ids[sha]} in bank sha-bank"
    )
    assert (
        by_kind["md5"].reason == f"MD5 of media #1 equals entry {entry_ids[md5]} in bank md5-bank"
    )
    only_md5 = _index(engine).match(_scan(media=[MediaHashes(3, md5, None)]))
    assert [(d.kind, "media #3" in d.reason) for d in only_md5] == [("md5", True)]
