"""Scenarios for review tests: threat cases (four-eyes, due in 1 h) and harassment cases (24 h)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.support.spine import add_bank, context, item, write_jsonl
from vigil.audit.models import Event
from vigil.audit.services import as_reducer_input
from vigil.cases.models import Case
from vigil.cases.reducer import case_hold, case_status
from vigil.ingest.services import ingest_file
from vigil.pipeline import ScanContext

THREAT = "[SYNTHETIC TEST CONTENT] i will hurt you"
HARASS = "[SYNTHETIC TEST CONTENT] you absolute grobnit"


def seed(engine: Engine, tmp_path: Path, *, threats: int = 1, harassment: int = 1) -> ScanContext:
    """Banks for both categories and one case per item: ``threat-N`` and ``harass-N``."""
    add_bank(engine, tmp_path, "threat-terms", "term", "threat_to_life", ["i will hurt you"])
    add_bank(engine, tmp_path, "harass-terms", "term", "harassment", ["you absolute grobnit"])
    ctx = context(engine)
    records = [item(f"threat-{n}", THREAT, author_id=f"acct-t{n}") for n in range(threats)]
    records += [item(f"harass-{n}", HARASS, author_id=f"acct-h{n}") for n in range(harassment)]
    ingest_file(engine, write_jsonl(tmp_path / "items.jsonl", records), ctx)
    return ctx


def notices(engine: Engine, tmp_path: Path, ctx: ScanContext, *records: dict[str, Any]) -> None:
    ingest_file(engine, write_jsonl(tmp_path / "notices.jsonl", list(records)), ctx)


def notice(nid: str, item_id: str, category: str, reporter_type: str = "user") -> dict[str, Any]:
    return {
        "record": "notice",
        "id": nid,
        "item_id": item_id,
        "category": category,
        "reporter_type": reporter_type,
        "received_at": "2026-10-02T09:00:00+00:00",
    }


def case_ids(engine: Engine, category: str) -> list[int]:
    with Session(engine) as s:
        return list(s.scalars(select(Case.id).where(Case.category == category).order_by(Case.id)))


def get(engine: Engine, case_id: int) -> Case:
    with Session(engine) as s:
        case = s.get(Case, case_id)
        assert case is not None
        return case


def events(engine: Engine, case_id: int) -> list[Event]:
    with Session(engine) as s:
        return list(
            s.scalars(select(Event).where(Event.subject == f"case:{case_id}").order_by(Event.seq))
        )


def types(engine: Engine, case_id: int) -> list[str]:
    return [e.type for e in events(engine, case_id)]


def assert_projection(engine: Engine, case_id: int) -> None:
    """The status and claim columns equal what the reducers derive from the case's events."""
    evs = as_reducer_input(events(engine, case_id))
    case = get(engine, case_id)
    assert case_status(evs) == case.status
    hold = case_hold(evs)
    assert (hold.assignee if hold else None) == case.assignee
    assert (hold.expires_at if hold else None) == case.claim_expires_at


def at(minutes: float) -> datetime:
    """A moment relative to now (ingest runs on the wall clock)."""
    return datetime.now(UTC) + timedelta(minutes=minutes)


def clock(moment: datetime) -> Any:
    return lambda: moment
