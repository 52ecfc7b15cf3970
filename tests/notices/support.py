"""Scenarios for notice tests: a settable clock, items, notices, and decided cases."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.support.spine import context, item, write_jsonl
from vigil.audit.models import Event
from vigil.cases.models import Case, CaseStatus, DecisionStatus, Outcome
from vigil.cases.services import confirm, decide
from vigil.ingest.services import IngestSummary, ingest_file
from vigil.items.models import Item, Notice
from vigil.pipeline import ScanContext
from vigil.policy.defaults import default_policy_text
from vigil.unit_of_work import unit_of_work

START = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
# A single notice of this category opens a case (default policy, min_count 1).
OPENS_A_CASE = "threat_to_life"


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def strict_policy(tmp_path: Path, **unfounded: Any) -> Path:
    """The default policy with other ``notices.unfounded`` settings."""
    text = default_policy_text()
    for key, value in unfounded.items():
        lines = [ln for ln in text.splitlines() if ln.strip().startswith(f"{key}:")]
        assert len(lines) == 1, key
        indent = lines[0][: len(lines[0]) - len(lines[0].lstrip())]
        text = text.replace(lines[0], f"{indent}{key}: {value}")
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def notice(
    nid: str, item_id: str, reporter: str | None, category: str = OPENS_A_CASE, **extra: Any
) -> dict[str, Any]:
    record = {
        "record": "notice",
        "id": nid,
        "item_id": item_id,
        "category": category,
        "reporter_type": extra.pop("reporter_type", "user"),
        "received_at": "2026-10-01T09:00:00+00:00",
        **extra,
    }
    if reporter is not None:
        record["reporter"] = reporter
    return record


_files = itertools.count()


class Scenario:
    """One database, one policy, one clock; files are written under ``tmp``."""

    def __init__(self, engine: Engine, tmp: Path, policy: Path | None = None) -> None:
        self.engine, self.tmp, self.clock = engine, tmp, Clock()
        self.ctx: ScanContext = context(engine, policy)

    def ingest(self, records: list[dict[str, Any]]) -> IngestSummary:
        path = write_jsonl(self.tmp / f"batch-{next(_files)}.jsonl", records)
        return ingest_file(self.engine, path, self.ctx, clock=self.clock)

    def items(self, *pids: str) -> None:
        self.ingest([item(pid, "plain words") for pid in pids])

    def item_id(self, pid: str) -> int:
        with Session(self.engine) as s:
            return s.scalars(select(Item.id).where(Item.platform_item_id == pid)).one()

    def decide(self, pid: str, *, action_taken: bool) -> list[int]:
        """Decide the item's case, which tells its notifiers; returns the notices it answered.

        Violating (confirmed by a second reviewer, as the category needs) when
        ``action_taken``, else not violating: the decision itself records the
        notices' outcome, as it does in production.
        """
        item_id = self.item_id(pid)
        with unit_of_work(self.engine, self.clock) as uow:
            case = uow.session.scalars(
                select(Case).where(Case.item_id == item_id, Case.status != CaseStatus.CLOSED.value)
            ).one()
            if action_taken:
                d = decide(
                    uow,
                    case.id,
                    reviewer="rev",
                    outcome=Outcome.VIOLATING,
                    clause=case.category,
                    policy=self.ctx.policy,
                )
                if d.status == DecisionStatus.AWAITING_CONFIRMATION.value:
                    confirm(uow, case.id, "rev-2", self.ctx.policy)
            else:
                d = decide(
                    uow,
                    case.id,
                    reviewer="rev",
                    outcome=Outcome.NOT_VIOLATING,
                    policy=self.ctx.policy,
                )
            return list(
                uow.session.scalars(
                    select(Notice.id).where(Notice.decision_id == d.id).order_by(Notice.id)
                )
            )

    def reported_and_decided(self, reporter: str | None, pid: str, *, action_taken: bool) -> None:
        """An item, one notice about it from ``reporter``, and the decision on it."""
        self.items(pid)
        self.ingest([notice(f"n-{pid}", pid, reporter)])
        self.decide(pid, action_taken=action_taken)

    def events(self, type_: str) -> list[tuple[str, dict[str, Any]]]:
        with Session(self.engine) as s:
            rows = s.execute(
                select(Event.subject, Event.body).where(Event.type == type_).order_by(Event.seq)
            )
            return [(subject, json.loads(body)["payload"]) for subject, body in rows]
