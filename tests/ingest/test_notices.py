"""Notices on both backends: unknown items, duplicates, min_count across runs, trusted flaggers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.support.spine import context, item, write_jsonl
from vigil.actions.models import Action
from vigil.cases.models import Case, Outcome
from vigil.cases.services import confirm, decide
from vigil.ingest.services import ingest_file
from vigil.items.models import Item, Notice
from vigil.pipeline import ScanContext
from vigil.policy.models import Verdict
from vigil.policy.schema import Review
from vigil.signals.models import Signal
from vigil.statements.models import StatementOfReasons
from vigil.unit_of_work import UnitOfWork, unit_of_work


def notice(
    nid: str, item_id: str, category: str, reporter_type: str = "user", **extra: Any
) -> dict[str, Any]:
    return {
        "record": "notice",
        "id": nid,
        "item_id": item_id,
        "category": category,
        "reporter_type": reporter_type,
        "received_at": "2026-10-02T09:00:00+00:00",
        **extra,
    }


def _decide_threat(uow: UnitOfWork, case_id: int, ctx: ScanContext) -> None:
    """A violating threat decision, confirmed by a second reviewer (four-eyes)."""
    decide(
        uow,
        case_id,
        reviewer="alice",
        outcome=Outcome.VIOLATING,
        policy=ctx.policy,
        clause="threat_to_life",
    )
    confirm(uow, case_id, "bob", ctx.policy)


def _ingest(engine: Engine, path: Path, records: list[dict[str, Any]], ctx: ScanContext) -> Any:
    return ingest_file(engine, write_jsonl(path, records), ctx)


def _sources(engine: Engine) -> list[str]:
    """The source of each statement, for the removal and then the strike's suspension."""
    with Session(engine) as s:
        rows = s.execute(
            select(Action.kind, StatementOfReasons.body)
            .join(Action, Action.id == StatementOfReasons.action_id)
            .order_by(Action.id)
        )
        pairs = [(kind, body["source_type"]) for kind, body in rows]
    assert [kind for kind, _ in pairs] == ["remove_content", "suspend_account"]
    return [source for _, source in pairs]


def _count(engine: Engine, model: type[Any]) -> int:
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _two_notice_rule(ctx: ScanContext) -> tuple[str, str]:
    """(notice category, rule id) of a default-policy rule that needs two notices."""
    found = [
        (r.when.notice_categories[0], r.id)
        for r in ctx.policy.rules
        if r.when.notice_categories and r.when.min_count == 2 and r.review == Review.REQUIRED
    ]
    assert found, "default.yaml has no notice rule with min_count 2"
    category, rule_id = found[0]
    # No other rule may fire on a single notice of that category.
    assert not [
        r
        for r in ctx.policy.rules
        if category in (r.when.notice_categories or []) and r.when.min_count < 2
    ]
    return category, rule_id


def test_notice_for_unknown_item_is_rejected_with_line(engine: Engine, tmp_path: Path) -> None:
    ctx = context(engine)
    summary = _ingest(
        engine,
        tmp_path / "mixed.jsonl",
        [
            item("known", "some text"),
            notice("n-ok", "known", "spam"),
            notice("n-ghost", "never-ingested", "spam"),
        ],
        ctx,
    )
    assert summary.outcome.stored == 1
    assert summary.outcome.notices == 1
    assert summary.outcome.rejected == [(3, "item_id: no item 'never-ingested' has been ingested")]
    rejects = [json.loads(line) for line in summary.rejects_path.read_text().splitlines()]
    assert [r["line"] for r in rejects] == [3]
    assert "item_id" in rejects[0]["reason"]
    assert "never-ingested" in rejects[0]["reason"]
    with Session(engine) as s:
        assert list(s.scalars(select(Notice.platform_notice_id))) == ["n-ok"]


def test_duplicate_notice_ids_are_skipped_on_reingest(engine: Engine, tmp_path: Path) -> None:
    ctx = context(engine)
    _ingest(engine, tmp_path / "items.jsonl", [item("p1"), item("p2")], ctx)
    notices = [notice("n1", "p1", "spam"), notice("n2", "p2", "harassment")]
    first = _ingest(engine, tmp_path / "notices.jsonl", notices, ctx)
    signals_after_first = _count(engine, Signal)
    second = _ingest(engine, tmp_path / "notices.jsonl", notices, ctx)
    assert (first.outcome.notices, first.outcome.duplicates) == (2, 0)
    assert (second.outcome.notices, second.outcome.duplicates) == (0, 2)
    assert second.rejected == 0
    assert _count(engine, Notice) == 2
    assert _count(engine, Signal) == signals_after_first == 2


def test_second_notice_opens_the_case_across_runs(engine: Engine, tmp_path: Path) -> None:
    ctx = context(engine)
    category, rule_id = _two_notice_rule(ctx)
    _ingest(engine, tmp_path / "items.jsonl", [item("target", "plain words")], ctx)

    first = _ingest(engine, tmp_path / "n1.jsonl", [notice("n1", "target", category)], ctx)
    assert (first.outcome.notices, first.outcome.verdicts, first.outcome.cases_opened) == (1, 0, 0)
    assert _count(engine, Case) == 0
    # The same notice again is a duplicate, not a second report.
    again = _ingest(engine, tmp_path / "n1.jsonl", [notice("n1", "target", category)], ctx)
    assert (again.outcome.duplicates, again.outcome.cases_opened) == (1, 0)
    assert _count(engine, Case) == 0

    second = _ingest(engine, tmp_path / "n2.jsonl", [notice("n2", "target", category)], ctx)
    assert (second.outcome.verdicts, second.outcome.cases_opened) == (1, 1)
    with Session(engine) as s:
        item_id = s.scalars(select(Item.id).where(Item.platform_item_id == "target")).one()
        case = s.scalars(select(Case)).one()
        assert case.item_id == item_id
        assert case.category == category
        assert case.status == "open"
        verdict = s.get(Verdict, case.verdict_id)
        assert verdict is not None
        assert verdict.rule_id == rule_id
        notice_signals = {
            sig.id: sig
            for sig in s.scalars(
                select(Signal).where(Signal.item_id == item_id, Signal.kind == "notice")
            )
        }
        assert len(notice_signals) == 2
        assert sorted(verdict.signal_ids) == sorted(notice_signals)
        by_notice = {
            n.platform_notice_id: n.id
            for n in s.scalars(select(Notice).where(Notice.item_id == item_id))
        }
        assert {sig.notice_id for sig in notice_signals.values()} == set(by_notice.values())


def test_trusted_flagger_notice_sets_statement_source(engine: Engine, tmp_path: Path) -> None:
    ctx = context(engine)
    _ingest(
        engine,
        tmp_path / "items.jsonl",
        [item("flagged", "[SYNTHETIC TEST CONTENT] words", author_country="FR")],
        ctx,
    )
    summary = _ingest(
        engine,
        tmp_path / "notices.jsonl",
        [notice("tf-1", "flagged", "threat_to_life", "trusted_flagger", reporter="org-x")],
        ctx,
    )
    assert summary.outcome.cases_opened == 1
    with Session(engine) as s:
        case_id = s.scalars(select(Case.id)).one()
        # Nothing is applied before a person decides.
        assert _count(engine, Action) == 0
    with unit_of_work(engine) as uow:
        _decide_threat(uow, case_id, ctx)
    with Session(engine) as s:
        # The content removal, then the suspension the threat strike (weight 5) brings.
        actions = list(s.scalars(select(Action).order_by(Action.id)))
        assert [a.kind for a in actions] == ["remove_content", "suspend_account"]
        assert not any(a.automated for a in actions)
        statements = list(
            s.scalars(
                select(StatementOfReasons).where(
                    StatementOfReasons.action_id.in_([a.id for a in actions])
                )
            )
        )
        assert len(statements) == 2
        for statement in statements:
            body = statement.body
            assert body["source_type"] == "SOURCE_TRUSTED_FLAGGER"
            assert body["automated_detection"] == "No"
            assert "trusted flagger" in body["decision_facts"]
            assert "org-x" not in json.dumps(body)  # the notifier's identity is never disclosed


def test_user_notice_gives_article_16_source(engine: Engine, tmp_path: Path) -> None:
    ctx = context(engine)
    _ingest(engine, tmp_path / "items.jsonl", [item("reported", "words")], ctx)
    _ingest(
        engine,
        tmp_path / "notices.jsonl",
        [notice("u-1", "reported", "threat_to_life")],
        ctx,
    )
    with unit_of_work(engine) as uow:
        case_id = uow.session.scalars(select(Case.id)).one()
        _decide_threat(uow, case_id, ctx)
    assert _sources(engine) == ["SOURCE_ARTICLE_16", "SOURCE_ARTICLE_16"]


def test_trusted_flagger_notice_wins_over_an_earlier_user_notice(
    engine: Engine, tmp_path: Path
) -> None:
    ctx = context(engine)
    _ingest(engine, tmp_path / "items.jsonl", [item("x", "words", author_country="FR")], ctx)
    _ingest(engine, tmp_path / "n1.jsonl", [notice("u-1", "x", "hate")], ctx)
    _ingest(
        engine,
        tmp_path / "n2.jsonl",
        [notice("tf-1", "x", "threat_to_life", "trusted_flagger")],
        ctx,
    )
    with unit_of_work(engine) as uow:
        case_id = uow.session.scalars(select(Case.id)).one()
        _decide_threat(uow, case_id, ctx)
    assert _sources(engine) == ["SOURCE_TRUSTED_FLAGGER", "SOURCE_TRUSTED_FLAGGER"]
