"""Review on both backends: queue order, one open case per item, evidence views and decisions logged."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.support.spine import add_bank, context, item, write_jsonl
from vigil.actions.models import Action
from vigil.audit.models import Event
from vigil.audit.services import as_reducer_input, verify
from vigil.cases.models import Case, Outcome
from vigil.cases.reducer import case_status
from vigil.cases.services import CaseError, decide, queue, view
from vigil.ingest.services import ingest_file
from vigil.items.models import Item
from vigil.statements.models import StatementOfReasons
from vigil.unit_of_work import unit_of_work


def _setup(engine: Engine, tmp_path: Path) -> None:
    add_bank(engine, tmp_path, "threat-terms", "term", "threat_to_life", ["i will hurt you"])
    add_bank(engine, tmp_path, "harass-terms", "term", "harassment", ["you absolute grobnit"])
    records = [
        item("threat-1", "[SYNTHETIC TEST CONTENT] i will hurt you"),
        item("harass-1", "[SYNTHETIC TEST CONTENT] you absolute grobnit"),
        item(
            "threat-2",
            "[SYNTHETIC TEST CONTENT] I WILL HURT YOU",
            author_country="US",
            author_id="acct-us",
        ),
    ]
    ingest_file(engine, write_jsonl(tmp_path / "items.jsonl", records), context(engine))


def test_queue_orders_by_deadline(engine: Engine, tmp_path: Path) -> None:
    _setup(engine, tmp_path)
    with unit_of_work(engine) as uow:
        cases = [e.case for e in queue(uow)]
        categories = [c.category for c in cases]
        deadlines = [c.deadline_at for c in cases if c.deadline_at is not None]
    assert sorted(categories) == ["harassment", "threat_to_life", "threat_to_life"]
    assert deadlines == sorted(deadlines)
    assert categories[-1] == "harassment"  # 24 h deadline after the two 1 h ones


def test_decision_applies_action_and_closes_case(engine: Engine, tmp_path: Path) -> None:
    _setup(engine, tmp_path)
    ctx = context(engine)
    with unit_of_work(engine) as uow:
        case = next(e.case for e in queue(uow) if e.case.category == "harassment")
        case_id = case.id
        v = view(uow, case_id, reviewer="alice")
        assert v.item.text is not None
        assert v.signals
    with unit_of_work(engine) as uow:
        decide(
            uow,
            case_id,
            reviewer="alice",
            outcome=Outcome.VIOLATING,
            policy=ctx.policy,
            clause="harassment",
            note="clear harassment",
        )
    with Session(engine) as s:
        closed = s.get(Case, case_id)
        assert closed is not None
        assert closed.status == "closed"
        case = closed
        item_row = s.get(Item, case.item_id)
        assert item_row is not None
        assert item_row.status == "restricted"
        # The decision's own action on the item (its strike's warning goes to the account).
        action = s.scalars(
            select(Action).where(
                Action.item_id == case.item_id, Action.kind == case.proposed_action
            )
        ).one()
        assert action.kind == "restrict_visibility"
        assert not action.automated
        assert action.decision_id is not None
        assert s.scalars(
            select(StatementOfReasons).where(StatementOfReasons.action_id == action.id)
        ).one()
        events = list(
            s.scalars(select(Event).where(Event.subject == f"case:{case_id}").order_by(Event.seq))
        )
        assert [e.actor for e in events if e.type == "evidence.viewed"] == ["alice"]
        assert (
            case_status(as_reducer_input(events)) == case.status
        )  # the projection equals the reducer
        assert verify(s).ok
    with unit_of_work(engine) as uow, pytest.raises(CaseError, match="already closed"):
        decide(uow, case_id, reviewer="bob", outcome=Outcome.NOT_VIOLATING, policy=ctx.policy)


def test_escalate_then_not_violating(engine: Engine, tmp_path: Path) -> None:
    _setup(engine, tmp_path)
    ctx = context(engine)
    with unit_of_work(engine) as uow:
        case_id = next(e.case.id for e in queue(uow) if e.case.category == "harassment")
        decide(uow, case_id, reviewer="alice", outcome=Outcome.ESCALATE, policy=ctx.policy)
    with unit_of_work(engine) as uow:
        assert uow.session.get(Case, case_id).status == "escalated"  # type: ignore[union-attr]
        decide(uow, case_id, reviewer="senior", outcome=Outcome.NOT_VIOLATING, policy=ctx.policy)
    with Session(engine) as s:
        case = s.get(Case, case_id)
        assert case is not None
        assert case.status == "closed"
        assert s.scalars(select(Action).where(Action.item_id == case.item_id)).first() is None


def test_a_second_verdict_joins_the_open_case(engine: Engine, tmp_path: Path) -> None:
    _setup(engine, tmp_path)
    notices = [
        {
            "record": "notice",
            "id": "n1",
            "item_id": "harass-1",
            "category": "threat_to_life",
            "received_at": "2026-10-02T00:00:00Z",
        },
    ]
    ingest_file(engine, write_jsonl(tmp_path / "notices.jsonl", notices), context(engine))
    with Session(engine) as s:
        item_id = s.scalars(select(Item.id).where(Item.platform_item_id == "harass-1")).one()
        cases = list(s.scalars(select(Case).where(Case.item_id == item_id)))
        assert len(cases) == 1
        assert cases[0].severity == "critical"  # raised by the more severe notice verdict
        assert "case.verdict_attached" in set(s.scalars(select(Event.type)))


def test_violating_decision_needs_known_clause(engine: Engine, tmp_path: Path) -> None:
    _setup(engine, tmp_path)
    ctx = context(engine)
    with unit_of_work(engine) as uow:
        case_id = queue(uow)[0].case.id
        with pytest.raises(CaseError, match="not a category"):
            decide(
                uow,
                case_id,
                reviewer="alice",
                outcome=Outcome.VIOLATING,
                policy=ctx.policy,
                clause="made_up",
            )
        with pytest.raises(CaseError, match="clause: a violating decision names"):
            decide(uow, case_id, reviewer="alice", outcome=Outcome.VIOLATING, policy=ctx.policy)
