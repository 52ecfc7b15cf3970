"""Helpers for match-rate safeguard tests: a tuned policy, batches at chosen times."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.support.spine import context, item
from vigil.actions.models import Action
from vigil.items.models import Item
from vigil.items.schemas import ItemRecord
from vigil.pipeline import BatchOutcome, ScanContext, process_batch
from vigil.policy.defaults import default_policy_text
from vigil.policy.models import Verdict
from vigil.safeguards.rates import bucket_of
from vigil.unit_of_work import unit_of_work

# A day ahead of the wall clock, on a bucket boundary: later than any entry's added_at.
T0 = bucket_of(datetime.now(UTC)) + timedelta(days=1)


def sha(label: str) -> str:
    """A synthetic media hash: the SHA-256 of made-up bytes."""
    return hashlib.sha256(f"synthetic test image {label}".encode()).hexdigest()


def tuned_context(engine: Engine, tmp: Path, **match_rate: Any) -> ScanContext:
    """The default policy with its match-rate safeguard tuned for small test batches."""
    data = yaml.safe_load(default_policy_text())
    data["safeguards"]["match_rate"].update(match_rate)
    path = tmp / "policy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return context(engine, path)


def media_item(pid: str, *hashes: str) -> dict[str, Any]:
    return item(pid, "look at this", media=[{"sha256": h} for h in hashes])


def batch(
    engine: Engine, ctx: ScanContext, at: datetime, records: Iterable[dict[str, Any]]
) -> BatchOutcome:
    """One live-ingest batch through the real pipeline, as if run at ``at``."""
    parsed = [ItemRecord.model_validate(r) for r in records]
    with unit_of_work(engine, clock=lambda: at) as uow:
        return process_batch(uow, ctx, parsed)


def plain(prefix: str, n: int) -> list[dict[str, Any]]:
    return [item(f"{prefix}-{i}", f"an ordinary post number {i}") for i in range(n)]


def outcomes(engine: Engine, pids: Iterable[str]) -> dict[str, tuple[bool, bool]]:
    """``{platform id: (review required, action applied)}`` for items that got a verdict."""
    wanted = list(pids)
    with Session(engine) as s:
        reviewed = dict(
            s.execute(
                select(Item.platform_item_id, Verdict.review_required)
                .join(Verdict, Verdict.item_id == Item.id)
                .where(Item.platform_item_id.in_(wanted))
            ).all()
        )
        acted = set(
            s.scalars(
                select(Item.platform_item_id)
                .join(Action, Action.item_id == Item.id)
                .where(Item.platform_item_id.in_(wanted))
            )
        )
    return {pid: (bool(reviewed[pid]), pid in acted) for pid in wanted if pid in reviewed}
