"""PDQ through the whole spine: hashed at ingest, sent as hashes only, rotated and mirrored."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.support.banks import make_bank
from tests.support.spine import context, item, write_jsonl
from vigil.cases.models import Case
from vigil.hashing.pdq import hash_image
from vigil.ingest.services import ingest_file
from vigil.items.models import Item, Media
from vigil.signals.models import Signal


@pytest.fixture(scope="module")
def dih(shared_dir: Path) -> Path:
    return shared_dir / "data" / "pdq" / "data" / "reg-test-input" / "dih"


def _image_media(path: Path) -> dict[str, Any]:
    return {"data_b64": base64.b64encode(path.read_bytes()).decode(), "mime": "image/jpeg"}


def _ingest(engine: Engine, tmp_path: Path, records: list[dict[str, Any]]) -> None:
    path = write_jsonl(tmp_path / "items.jsonl", records)
    summary = ingest_file(engine, path, context(engine))
    assert summary.rejected == 0, summary.rejects_path.read_text()


def _pdq_signals(engine: Engine) -> dict[str, list[tuple[int | None, str]]]:
    with Session(engine) as s:
        rows = s.execute(
            select(Item.platform_item_id, Signal.distance, Signal.reason)
            .join(Signal, Signal.item_id == Item.id)
            .where(Signal.kind == "pdq")
        )
        out: dict[str, list[tuple[int | None, str]]] = {}
        for pid, distance, reason in rows:
            out.setdefault(pid, []).append((distance, reason))
        return out


def test_images_are_hashed_at_ingest_and_the_hashes_outlive_the_content(
    engine: Engine, tmp_path: Path, dih: Path
) -> None:
    original = dih / "bridge-1-original.jpg"
    _ingest(engine, tmp_path, [item("photo", "a bridge", media=[_image_media(original)])])
    expected = hash_image(original.read_bytes())
    with Session(engine) as s:
        media = s.scalars(select(Media)).one()
        stored = s.scalars(select(Item)).one()
    assert stored.content_retained is False  # matched nothing: the image itself is gone
    assert media.data is None
    assert (media.pdq, media.pdq_quality) == (expected.hex, expected.quality)
    assert media.pdq_variants is not None
    assert len(media.pdq_variants) == 7


def test_a_similar_image_matches_within_the_threshold_and_opens_a_case(
    engine: Engine, tmp_path: Path, shared_dir: Path
) -> None:
    mods = shared_dir / "data" / "pdq" / "data" / "bridge-mods"
    banked = hash_image((mods / "aaa-orig.jpg").read_bytes())
    make_bank(engine, "terror-pdq", "pdq", "terrorism", [banked.hex])
    _ingest(
        engine,
        tmp_path,
        [
            item("blurred", "look", media=[_image_media(mods / "blur-a-little.jpg")]),
            item(
                "other",
                "look",
                media=[_image_media(shared_dir / "data/pdq/data/misc-images/c.png")],
            ),
        ],
    )
    found = _pdq_signals(engine)
    assert set(found) == {"blurred"}
    ((distance, reason),) = found["blurred"]
    assert distance is not None
    assert 0 < distance <= 31
    assert f"{distance} bits from" in reason
    with Session(engine) as s:
        assert s.scalar(select(Case.id)) is not None  # the policy asks a person to confirm


@pytest.mark.parametrize("transforms", [False, True])
def test_rotated_copies_match_only_banks_that_ask_for_it(
    engine: Engine, tmp_path: Path, dih: Path, transforms: bool
) -> None:
    banked = hash_image((dih / "bridge-1-original.jpg").read_bytes())
    make_bank(engine, "rot", "pdq", "terrorism", [banked.hex], match_transforms=transforms)
    rotated = ["bridge-2-rotate-90.jpg", "bridge-3-rotate-180.jpg", "bridge-6-flipy.jpg"]
    _ingest(
        engine,
        tmp_path,
        [item(name, "look", media=[_image_media(dih / name)]) for name in rotated],
    )
    found = _pdq_signals(engine)
    if not transforms:
        assert found == {}
        return
    assert set(found) == set(rotated)
    assert "(rotate270)" in found["bridge-2-rotate-90.jpg"][0][1]  # undoing the rotation
    assert all(d is not None and d <= 10 for hits in found.values() for d, _ in hits)


def test_hashes_only_items_match_including_rotations(
    engine: Engine, tmp_path: Path, dih: Path
) -> None:
    banked = hash_image((dih / "bridge-1-original.jpg").read_bytes())
    make_bank(engine, "plain", "pdq", "terrorism", [banked.hex])
    make_bank(
        engine, "turned", "pdq", "child_sexual_exploitation", [banked.hex], match_transforms=True
    )
    rotated = hash_image((dih / "bridge-2-rotate-90.jpg").read_bytes())
    _ingest(
        engine,
        tmp_path,
        [
            item("same", None, media=[{"pdq": banked.hex.upper(), "pdq_quality": 90}]),
            item("turned", None, media=[{"pdq": rotated.hex}]),
        ],
    )
    found = _pdq_signals(engine)
    assert [d for d, _ in found["same"]] == [0, 0]  # both banks, identical hash
    # Without the image, the rotation is estimated from the hash: only the bank that asks.
    ((distance, reason),) = found["turned"]
    assert distance is not None
    assert distance <= 31
    assert "turned" in reason
    with Session(engine) as s:
        media = s.scalars(select(Media).order_by(Media.id)).all()
    assert [m.pdq for m in media] == [banked.hex, rotated.hex]
    assert all(m.pdq_variants is None for m in media)


def test_low_quality_hashes_are_dropped(engine: Engine, tmp_path: Path) -> None:
    flat = Image.new("RGB", (300, 300), (120, 120, 120))
    buf = io.BytesIO()
    flat.save(buf, "PNG")
    flat_hash = hash_image(buf.getvalue())
    assert flat_hash.quality < 50
    make_bank(engine, "flat", "pdq", "terrorism", [flat_hash.hex, "ab" * 32])
    _ingest(
        engine,
        tmp_path,
        [
            item(
                "flat-bytes", None, media=[{"data_b64": base64.b64encode(buf.getvalue()).decode()}]
            ),
            item("sent-low", None, media=[{"pdq": "ab" * 32, "pdq_quality": 20}]),
            item("sent-ok", None, media=[{"pdq": "ab" * 32, "pdq_quality": 50}]),
        ],
    )
    assert set(_pdq_signals(engine)) == {"sent-ok"}
    with Session(engine) as s:
        pdqs = s.scalars(select(Media.pdq).order_by(Media.id)).all()
    assert pdqs == [None, None, "ab" * 32]


def test_bad_pdq_fields_are_rejected_with_the_field_named(engine: Engine, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "items.jsonl",
        [
            item("short", None, media=[{"pdq": "ab" * 31}]),
            item("quality", None, media=[{"pdq": "ab" * 32, "pdq_quality": 101}]),
            item("orphan-quality", None, media=[{"sha256": "ab" * 32, "pdq_quality": 80}]),
            item("fine", None, media=[{"pdq": "ab" * 32}]),
        ],
    )
    summary = ingest_file(engine, path, context(engine))
    assert summary.outcome.stored == 1
    reasons = [line for line in summary.rejects_path.read_text().splitlines()]
    assert len(reasons) == 3
    assert "media.0.pdq" in reasons[0]
    assert "pdq_quality" in reasons[1]
    assert "pdq_quality given without pdq" in reasons[2]
