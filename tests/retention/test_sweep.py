"""Unmatched content kept under a 'keep' policy is dropped by the sweep once its period passes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.support.spine import add_bank, context, item, write_jsonl
from vigil.audit.models import Event
from vigil.db.base import utcnow
from vigil.ingest.services import ingest_file
from vigil.items.models import Item
from vigil.policy.defaults import default_policy_text
from vigil.retention.services import sweep
from vigil.unit_of_work import unit_of_work


def _keep_policy(tmp_path: Path, days: int) -> Path:
    text = default_policy_text().replace("unmatched_content: drop", "unmatched_content: keep")
    text = text.replace("unmatched_content_days: 0", f"unmatched_content_days: {days}")
    assert "unmatched_content: keep" in text
    assert f"unmatched_content_days: {days}" in text
    path = tmp_path / "keep.yaml"
    path.write_text(text)
    return path


def test_keep_policy_keeps_then_sweep_drops(engine: Engine, tmp_path: Path) -> None:
    add_bank(engine, tmp_path, "threat-terms", "term", "threat_to_life", ["i will hurt you"])
    policy_path = _keep_policy(tmp_path, 7)
    ctx = context(engine, policy_path)
    records = [
        item("clean", "sunny gardening"),
        item("threat", "[SYNTHETIC TEST CONTENT] i will hurt you"),
    ]
    ingest_file(engine, write_jsonl(tmp_path / "i.jsonl", records), ctx)
    with Session(engine) as s:
        assert (
            s.scalars(select(Item.text).where(Item.platform_item_id == "clean")).one()
            == "sunny gardening"
        )
    with unit_of_work(engine) as uow:
        assert sweep(uow, ctx.policy) == 0  # not yet expired
    later = utcnow() + timedelta(days=8)
    with unit_of_work(engine, clock=lambda: later) as uow:
        assert sweep(uow, ctx.policy) == 1
    with Session(engine) as s:
        rows = {i.platform_item_id: i for i in s.scalars(select(Item))}
        assert rows["clean"].text is None
        assert rows["clean"].text_sha256 is not None
        assert rows["threat"].text is not None  # matched content is evidence, not swept here
        dropped = s.scalars(select(Event).where(Event.type == "items.content_dropped")).one()
        assert "sunny" not in dropped.body  # the deletion event never holds the deleted data
