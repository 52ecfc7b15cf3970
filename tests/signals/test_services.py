"""Recording signals with provenance, and the new kinds through the default policy."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.signals.test_bank_matching import media_item, pdq_near
from tests.support.banks import events, load_index, make_bank
from tests.support.spine import context, item, write_jsonl
from vigil.banks.formats import RawEntry
from vigil.cases.models import Case
from vigil.ingest.services import ingest_file
from vigil.items.models import Item
from vigil.policy.models import Verdict
from vigil.signals.models import Signal
from vigil.signals.services import record_signals, signals_of_items
from vigil.unit_of_work import unit_of_work


def test_signal_rows_and_events_carry_provenance_and_distance(
    engine: Engine, tmp_path: Path
) -> None:
    ingest_file(engine, write_jsonl(tmp_path / "a.jsonl", [item("a", "hello")]), context(engine))
    base = pdq_near("0" * 64, 128, seed=9)
    make_bank(
        engine,
        "gifct-pdq",
        "pdq",
        "terrorism",
        [RawEntry(1, base, external_id="g-1", tags=["photo"], source="GIFCT")],
    )
    with Session(engine) as s:
        item_id = s.scalars(select(Item.id)).one()
    drafts = load_index(engine).match(media_item(item_id, pdq=pdq_near(base, 12, seed=1)))
    with unit_of_work(engine) as uow:
        (recorded,) = record_signals(uow, drafts)
    with Session(engine) as s:
        row = s.get(Signal, recorded.id)
        assert row is not None
        assert (row.kind, row.distance, row.entry_source, row.category) == (
            "pdq",
            12,
            "GIFCT",
            "terrorism",
        )
    (_, subject, payload) = events(engine, "signal.raised")[-1]
    assert subject == f"item:{item_id}"
    assert (payload["entry_source"], payload["external_id"], payload["tags"]) == (
        "GIFCT",
        "g-1",
        ["photo"],
    )
    assert payload["distance"] == 12
    with unit_of_work(engine) as uow:
        (facts,) = signals_of_items(uow, [item_id])[item_id]
    assert (facts.kind.value, facts.bank, facts.bank_category) == ("pdq", "gifct-pdq", "terrorism")


def test_exact_text_and_patterns_reach_the_default_policy(engine: Engine, tmp_path: Path) -> None:
    make_bank(engine, "manifestos", "text", "terrorism", ["[SYNTHETIC] the fictional manifesto"])
    make_bank(
        engine, "threat-re", "regex", "threat_to_life", [r"\bi\s{1,3}will\s{1,3}find\s{1,3}you\b"]
    )
    make_bank(engine, "dark", "term", "hate", ["zorblax"], rollout=0.0)
    records = [
        item("copy", "[synthetic]  The Fictional MANIFESTO"),
        item("threat", "[SYNTHETIC] I will   find you"),
        item("dark", "zorblax"),
    ]
    summary = ingest_file(engine, write_jsonl(tmp_path / "i.jsonl", records), context(engine))
    assert (summary.outcome.signals, summary.outcome.verdicts) == (2, 2)
    with Session(engine) as s:
        verdicts = {
            pid: (v.rule_id, v.review_required)
            for pid, v in s.execute(select(Item.platform_item_id, Verdict).join(Verdict))
        }
        assert verdicts == {
            "copy": ("terrorism-hash", False),
            "threat": ("threat-to-life-term", True),
        }
        status = {pid: st for pid, st in s.execute(select(Item.platform_item_id, Item.status))}
        assert status["copy"] == "removed"
        assert s.scalars(select(Case.category)).all() == ["threat_to_life"]
