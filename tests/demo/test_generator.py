"""The synthetic demo data is deterministic, valid where it should be, and plants what it says."""

from __future__ import annotations

import csv
import json
import re
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pydantic import ValidationError

from vigil.banks.models import BankKind
from vigil.demo.generator import EU_EEA, MARKER, BankSpec, DemoFiles, generate
from vigil.hashing.pdq import dihedral_from_hash
from vigil.items.schemas import ItemRecord, NoticeRecord

CATEGORIES = {
    "terrorism",
    "child_sexual_exploitation",
    "threat_to_life",
    "hate",
    "harassment",
    "spam",
}
SMALL = 5_000


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return generate(tmp_path_factory.mktemp("demo"), items=SMALL, seed=7)


@pytest.fixture(scope="module")
def records(demo: DemoFiles) -> list[ItemRecord]:
    out = []
    for line in demo.items_path.read_text(encoding="utf-8").splitlines():
        if '"bad_' not in line:
            out.append(ItemRecord.model_validate_json(line))
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _values(spec: BankSpec) -> list[str]:
    """Read a bank file the way an importer would, independently of the generator."""
    text = spec.path.read_text(encoding="utf-8")
    if spec.path.suffix == ".csv":
        return [row["value"] for row in csv.DictReader(text.splitlines())]
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def _within_pdq_threshold(record: ItemRecord, values: set[str]) -> bool:
    """Any orientation of any media file within 31 bits of a banked hash (brute force)."""
    banked = [int(v, 16) for v in values]
    for m in record.media:
        if m.pdq is None:
            continue
        if m.pdq_variants:
            orientations = [m.pdq, *m.pdq_variants]
        else:
            orientations = [h.hex() for h in dihedral_from_hash(bytes.fromhex(m.pdq))]
        for hex_hash in orientations:
            if any((int(hex_hash, 16) ^ b).bit_count() <= 31 for b in banked):
                return True
    return False


def _matches(record: ItemRecord, spec: BankSpec, values: set[str]) -> bool:
    if spec.kind is BankKind.PDQ:
        return _within_pdq_threshold(record, values)
    if spec.kind is BankKind.SHA256:
        return any(m.sha256 in values for m in record.media)
    if spec.kind is BankKind.MD5:
        return any(m.md5 in values for m in record.media)
    if spec.kind is BankKind.URL:
        return any(u in values for u in record.urls)
    if spec.kind is BankKind.DOMAIN:
        return any(urlsplit(u).hostname in values for u in record.urls)
    text = (record.text or "").lower()
    return any(re.search(rf"\b{re.escape(term)}\b", text) for term in values)


def test_same_seed_same_bytes_other_seed_differs(demo: DemoFiles, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", items=SMALL, seed=7)
    other = generate(tmp_path / "other", items=SMALL, seed=8)
    first = _files(demo.out_dir)
    assert set(first) >= {"items.jsonl", "notices.jsonl", "banks/terrorism-hashes.txt"}
    assert _files(again.out_dir) == first
    assert again.planted == demo.planted
    differs = _files(other.out_dir)
    for name in (
        "items.jsonl",
        "notices.jsonl",
        "banks/terrorism-hashes.txt",
        "banks/csam-standin-md5.csv",
    ):
        assert differs[name] != first[name], name


def test_valid_lines_validate_and_malformed_lines_fail(demo: DemoFiles) -> None:
    lines = demo.items_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == SMALL + demo.malformed
    assert demo.malformed == 5
    faults = {"bad_0001": "author_id", "bad_0002": "created_at", "bad_0003": "kind"}
    faults["bad_0005"] = "audience"
    good, bad = 0, []
    for line in lines:
        if '"bad_' not in line:
            ItemRecord.model_validate_json(line)
            good += 1
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            bad.append("invalid json")
            continue
        with pytest.raises(ValidationError) as info:
            ItemRecord.model_validate(obj)
        assert {e["loc"][0] for e in info.value.errors()} == {faults[obj["id"]]}
        bad.append(obj["id"])
    assert good == SMALL
    assert sorted(bad) == ["bad_0001", "bad_0002", "bad_0003", "bad_0005", "invalid json"]
    assert lines[0].startswith('{"record":"item"')
    assert '"bad_' not in lines[-1]


def test_notices_point_at_items_and_come_after_them(
    demo: DemoFiles, records: list[ItemRecord]
) -> None:
    created = {r.id: r.created_at for r in records}
    notices = [
        NoticeRecord.model_validate_json(ln) for ln in demo.notices_path.read_text().splitlines()
    ]
    assert len(notices) == demo.notices == SMALL // 500
    assert len({n.id for n in notices}) == len(notices)
    for n in notices:
        assert n.item_id in created
        assert n.received_at > created[n.item_id]
        assert n.category in CATEGORIES
    per_item = Counter(n.item_id for n in notices)
    assert max(per_item.values()) >= 2  # duplicates so min_count rules can fire


def test_planted_counts_match_the_bank_files(demo: DemoFiles, records: list[ItemRecord]) -> None:
    banks = [(spec, set(_values(spec))) for spec in demo.banks]
    counts: Counter[str] = Counter()
    for record in records:
        hits = [spec.name for spec, values in banks if _matches(record, spec, values)]
        assert len(hits) <= 1, (record.id, hits)
        counts.update(hits)
    assert dict(counts) == demo.planted_by_bank
    assert all(n > 0 for n in demo.planted_by_bank.values())
    by_category: Counter[str] = Counter()
    for spec in demo.banks:
        by_category[spec.category] += counts[spec.name]
    assert dict(by_category) == demo.planted
    assert set(demo.planted) == CATEGORIES
    assert 0.01 <= sum(demo.planted.values()) / SMALL <= 0.02


def test_planted_text_is_marked_synthetic(demo: DemoFiles, records: list[ItemRecord]) -> None:
    banks = [(spec, set(_values(spec))) for spec in demo.banks]
    planted = [r for r in records if any(_matches(r, s, v) for s, v in banks)]
    assert len(planted) == sum(demo.planted.values())
    assert all((r.text or "").startswith(MARKER) for r in planted)
    assert sum(MARKER in (r.text or "") for r in records) == len(planted)


def test_bank_files_parse(demo: DemoFiles) -> None:
    # Exact-text and pattern banks are tested apart.
    assert {s.kind for s in demo.banks} == set(BankKind) - {BankKind.TEXT, BankKind.REGEX}
    assert {s.category for s in demo.banks} == CATEGORIES
    assert len({s.name for s in demo.banks}) == len(demo.banks) == 9
    assert [s.name for s in demo.banks if s.transforms] == ["demo-terrorism-pdq"]
    shapes = {
        BankKind.SHA256: r"[0-9a-f]{64}",
        BankKind.MD5: r"[0-9a-f]{32}",
        BankKind.PDQ: r"[0-9a-f]{64}",
        BankKind.URL: r"https?://\S+",
        BankKind.DOMAIN: r"[a-z0-9.-]+\.[a-z]+",
        BankKind.TERM: r"[a-z][a-z ]+",
    }
    for spec in demo.banks:
        assert spec.path.parent == demo.banks_dir
        assert spec.source
        values = _values(spec)
        assert values
        assert len(set(values)) == len(values)
        assert all(re.fullmatch(shapes[spec.kind], v) for v in values), spec.name
        if spec.path.suffix == ".csv":
            rows = list(csv.DictReader(spec.path.read_text().splitlines()))
            assert list(rows[0]) == ["value", "external_id", "note"]
            assert all("stand-in" in row["note"] and row["external_id"] for row in rows)
        else:
            assert spec.path.read_text().startswith("#")


def test_population_mix(records: list[ItemRecord]) -> None:
    kinds = Counter(r.kind.value for r in records)
    assert kinds["post"] > SMALL * 0.6
    assert kinds["comment"]
    assert kinds["public_message"]
    assert kinds["profile"]
    order = {r.id: i for i, r in enumerate(records)}
    posts = {r.id for r in records if r.kind.value == "post"}
    for r in records:
        if r.parent_id is not None:
            assert r.parent_id in posts
            assert order[r.parent_id] < order[r.id]
    eu = sum(r.author_country in EU_EEA for r in records) / len(records)
    assert 0.5 < eu < 0.7
    assert 0.07 < sum(bool(r.urls) for r in records) / len(records) < 0.13
    media = [m for r in records for m in r.media]
    assert any(m.data_b64 for m in media)
    assert any(m.data_b64 is None and m.sha256 for m in media)
    assert len({r.author_id for r in records}) == pytest.approx(SMALL // 25, rel=0.1)
    assert all(re.fullmatch(r"user_\d{5}", r.author_handle or "") for r in records)
    assert len({r.language for r in records}) >= 4


def test_full_size_run(tmp_path: Path) -> None:
    started = time.perf_counter()
    files = generate(tmp_path, items=50_000)
    elapsed = time.perf_counter() - started
    with files.items_path.open("rb") as fh:
        lines = sum(1 for _ in fh)
    assert lines == 50_000 + files.malformed
    assert files.notices == 100
    assert elapsed < 20, f"50,000 items took {elapsed:.1f} s"  # measured ~1 s; a loose guard


def test_too_few_items_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least"):
        generate(tmp_path, items=10)
