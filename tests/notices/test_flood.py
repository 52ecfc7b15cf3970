"""Floods of notices: one notifier reporting an item again and again counts once towards rules."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.notices.support import Scenario, notice
from vigil.cases.models import Case
from vigil.policy.engine import SignalFacts, evaluate
from vigil.policy.schema import Policy, Review, SignalKind
from vigil.policy.services import load_active


def _two_notice_category(policy: Policy) -> str:
    found = [
        r.when.notice_categories[0]
        for r in policy.rules
        if r.when.notice_categories and r.when.min_count == 2 and r.review is Review.REQUIRED
    ]
    assert found
    return found[0]


def _notice(ref: int, category: str, notifier: str | None) -> SignalFacts:
    return SignalFacts(ref=ref, kind=SignalKind.NOTICE, notice_category=category, notifier=notifier)


def test_engine_counts_each_notifier_once() -> None:
    policy, _ = load_active(None)
    category = _two_notice_category(policy)
    same = [_notice(1, category, "mob"), _notice(2, category, "mob"), _notice(3, category, "mob")]
    assert evaluate(policy, same) is None
    draft = evaluate(policy, [*same, _notice(4, category, "bystander")])
    assert draft is not None
    assert draft.signal_refs == (1, 2, 3, 4)
    # Anonymous notices cannot be told apart: each counts.
    anonymous = evaluate(policy, [_notice(5, category, None), _notice(6, category, None)])
    assert anonymous is not None


def _cases(engine: Engine) -> int:
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(Case)) or 0)


def test_repeated_notices_from_one_notifier_open_no_case(engine: Engine, tmp_path: Path) -> None:
    sc = Scenario(engine, tmp_path)
    category = _two_notice_category(sc.ctx.policy)
    sc.items("target")
    first = sc.ingest([notice(f"m{n}", "target", "mob", category) for n in range(3)])
    assert (first.outcome.notices, first.outcome.signals, first.outcome.verdicts) == (3, 3, 0)
    again = sc.ingest([notice("m3", "target", "mob", category)])  # a later batch, same notifier
    assert (again.outcome.notices, again.outcome.verdicts) == (1, 0)
    assert _cases(engine) == 0
    second = sc.ingest([notice("b1", "target", "bystander", category)])
    assert (second.outcome.verdicts, second.outcome.cases_opened) == (1, 1)
    assert _cases(engine) == 1
