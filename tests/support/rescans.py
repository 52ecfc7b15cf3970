"""Helpers for retroactive-matching tests: ingest under the drop policy, run jobs, read outcomes."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.support.spine import context, write_jsonl
from vigil.actions.models import Action
from vigil.banks.models import Bank
from vigil.cases.models import Case
from vigil.ingest.services import ingest_file
from vigil.items.models import Item
from vigil.policy.models import Verdict
from vigil.rescans.services import RescanReport, activate_policy, list_rescans, run_rescan
from vigil.signals.models import Signal


def ingest(
    engine: Engine,
    tmp_path: Path,
    records: list[dict[str, Any]],
    name: str = "items.jsonl",
    policy: Path | None = None,
) -> None:
    path = write_jsonl(tmp_path / name, records)
    summary = ingest_file(engine, path, context(engine, policy))
    assert summary.rejected == 0, summary.rejects_path.read_text()


def jobs(engine: Engine, bank: str | None = None) -> list[RescanReport]:
    with Session(engine) as s:
        return list_rescans(s, bank)


def run_all(
    engine: Engine, policy: Path | None = None, chunk_size: int = 1000
) -> list[RescanReport]:
    """Run every unfinished job, oldest first, as ``vigil bank rescan`` does."""
    active = activate_policy(engine, policy)
    with Session(engine) as s:
        pending = list_rescans(s, unfinished=True)
    return [run_rescan(engine, j.id, active, chunk_size=chunk_size) for j in pending]


def signals_by_item(engine: Engine) -> dict[str, list[tuple[str, str]]]:
    """``platform id -> [(bank, kind)]`` of every bank signal, oldest first."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with Session(engine) as s:
        rows = s.execute(
            select(Item.platform_item_id, Bank.name, Signal.kind)
            .join(Signal, Signal.item_id == Item.id)
            .join(Bank, Bank.id == Signal.bank_id)
            .order_by(Signal.id)
        )
        for pid, bank, kind in rows:
            out[pid].append((bank, kind))
    return dict(out)


def _by_item(engine: Engine, model: Any, column: Any) -> dict[str, list[str]]:
    """``platform id -> [column of each row of model]`` for one item-linked table, oldest first."""
    out: dict[str, list[str]] = defaultdict(list)
    with Session(engine) as s:
        rows = s.execute(
            select(Item.platform_item_id, column)
            .join(model, model.item_id == Item.id)
            .order_by(model.id)
        )
        for pid, value in rows:
            out[pid].append(value)
    return dict(out)


def verdict_rules(engine: Engine) -> dict[str, list[str]]:
    return _by_item(engine, Verdict, Verdict.rule_id)


def cases_by_item(engine: Engine) -> dict[str, list[str]]:
    return _by_item(engine, Case, Case.category)


def actions_by_item(engine: Engine) -> dict[str, list[str]]:
    return _by_item(engine, Action, Action.kind)


def dropped(engine: Engine) -> set[str]:
    """Platform ids of items whose content was dropped."""
    with Session(engine) as s:
        return set(s.scalars(select(Item.platform_item_id).where(Item.content_retained.is_(False))))
