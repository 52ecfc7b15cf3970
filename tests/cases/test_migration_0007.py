"""0007 adds claims, priorities, missed deadlines and four-eyes columns; existing rows keep working."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect, text

from tests.cases.support import case_ids, seed
from vigil.cases.models import Outcome
from vigil.cases.services import decide
from vigil.db.migrate import current_revision, downgrade, upgrade
from vigil.unit_of_work import unit_of_work

CASE_COLUMNS = {"assignee", "claimed_at", "claim_expires_at", "priority", "deadline_missed_at"}
DECISION_COLUMNS = {
    "status",
    "confirmed_by",
    "confirmed_at",
    "user_message",
    "escalation",
    "refused_by",
    "refused_at",
    "refusal_reason",
    "refusal_note",
}


def _columns(engine: Engine, table: str) -> set[str]:
    with engine.connect() as c:
        return {col["name"] for col in inspect(c).get_columns(table)}


def _unique_open_index(engine: Engine) -> bool:
    with engine.connect() as c:
        return any(
            i["name"] == "uq_cases_one_open_per_item" and i["unique"]
            for i in inspect(c).get_indexes("cases")
        )


def test_down_to_0006_and_up_again_with_data(engine: Engine, tmp_path: Path) -> None:
    ctx = seed(engine, tmp_path, threats=2, harassment=1)
    t0, t1 = case_ids(engine, "threat_to_life")
    (h0,) = case_ids(engine, "harassment")
    with unit_of_work(engine) as uow:
        decide(uow, h0, reviewer="alice", outcome=Outcome.NOT_VIOLATING, policy=ctx.policy)
        decide(
            uow,
            t1,
            reviewer="alice",
            outcome=Outcome.VIOLATING,
            policy=ctx.policy,
            clause="threat_to_life",
        )  # awaiting confirmation

    downgrade(engine, "0006")
    assert current_revision(engine) == "0006"
    assert not CASE_COLUMNS & _columns(engine, "cases")
    assert not DECISION_COLUMNS & _columns(engine, "decisions")
    assert _unique_open_index(engine)
    with engine.connect() as c:
        statuses = {i: s for i, s in c.execute(text("SELECT id, status FROM cases")).all()}
    assert statuses == {t0: "open", t1: "open", h0: "closed"}

    upgrade(engine)
    assert _columns(engine, "cases") >= CASE_COLUMNS
    assert _columns(engine, "decisions") >= DECISION_COLUMNS
    assert _unique_open_index(engine)
    with engine.connect() as c:
        priorities = set(c.execute(text("SELECT priority FROM cases")).scalars())
        decisions = c.execute(text("SELECT status, escalation FROM decisions")).all()
        widened = text("UPDATE cases SET status = 'awaiting_confirmation' WHERE id = :id")
        c.execute(widened, {"id": t0})
        c.commit()
    assert priorities == {1}
    assert {(status, str(escalation)) for status, escalation in decisions} == {("final", "[]")}
