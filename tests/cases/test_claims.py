"""Claims and assignments on both backends: two reviewers never hold the same case."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.cases.support import assert_projection, at, case_ids, clock, events, get, seed, types
from vigil.cases.models import Case, Outcome
from vigil.cases.services import (
    CaseError,
    assign,
    claim,
    claim_next,
    decide,
    release,
)
from vigil.unit_of_work import UnitOfWork, unit_of_work


def test_claim_holds_the_case_against_others(engine: Engine, tmp_path: Path) -> None:
    ctx = seed(engine, tmp_path)
    case_id = case_ids(engine, "harassment")[0]
    now = at(0)
    with unit_of_work(engine, clock=clock(now)) as uow:
        case = claim(uow, case_id, "alice", ctx.policy)
        assert case.assignee == "alice"
        assert case.claim_expires_at == now + ctx.policy.review.claim_delta
    with unit_of_work(engine) as uow, pytest.raises(CaseError, match="held by alice"):
        claim(uow, case_id, "bob", ctx.policy)
    with unit_of_work(engine) as uow, pytest.raises(CaseError, match="held by alice"):
        decide(
            uow,
            case_id,
            reviewer="bob",
            outcome=Outcome.NOT_VIOLATING,
            policy=ctx.policy,
        )
    assert get(engine, case_id).status == "open"
    claimed = [e for e in events(engine, case_id) if e.type == "case.claimed"]
    assert [e.actor for e in claimed] == ["alice"]
    assert_projection(engine, case_id)


def test_a_lapsed_claim_can_be_taken_over(engine: Engine, tmp_path: Path) -> None:
    ctx = seed(engine, tmp_path)
    case_id = case_ids(engine, "harassment")[0]
    start = at(0)
    with unit_of_work(engine, clock=clock(start)) as uow:
        claim(uow, case_id, "alice", ctx.policy)
    just_before = start + ctx.policy.review.claim_delta - ctx.policy.review.claim_delta / 10
    with (
        unit_of_work(engine, clock=clock(just_before)) as uow,
        pytest.raises(CaseError, match="held by alice"),
    ):
        claim(uow, case_id, "bob", ctx.policy)
    later = start + ctx.policy.review.claim_delta
    with unit_of_work(engine, clock=clock(later)) as uow:
        claim(uow, case_id, "bob", ctx.policy)
    case = get(engine, case_id)
    assert case.assignee == "bob"
    tail = [(e.type, e.actor) for e in events(engine, case_id)][-2:]
    assert tail == [("case.released", "system"), ("case.claimed", "bob")]
    assert_projection(engine, case_id)


def test_claiming_again_renews_the_claim(engine: Engine, tmp_path: Path) -> None:
    ctx = seed(engine, tmp_path)
    case_id = case_ids(engine, "harassment")[0]
    with unit_of_work(engine, clock=clock(at(0))) as uow:
        claim(uow, case_id, "alice", ctx.policy)
    renewed = at(20)
    with unit_of_work(engine, clock=clock(renewed)) as uow:
        claim(uow, case_id, "alice", ctx.policy)
    assert get(engine, case_id).claim_expires_at == renewed + ctx.policy.review.claim_delta
    assert types(engine, case_id).count("case.claimed") == 2
    assert_projection(engine, case_id)


def test_only_the_holder_releases(engine: Engine, tmp_path: Path) -> None:
    ctx = seed(engine, tmp_path)
    case_id = case_ids(engine, "harassment")[0]
    with unit_of_work(engine) as uow:
        claim(uow, case_id, "alice", ctx.policy)
    with unit_of_work(engine) as uow, pytest.raises(CaseError, match="not held by bob"):
        release(uow, case_id, "bob")
    with unit_of_work(engine) as uow:
        release(uow, case_id, "alice")
    assert get(engine, case_id).assignee is None
    assert events(engine, case_id)[-1].type == "case.released"
    with unit_of_work(engine) as uow:
        claim(uow, case_id, "bob", ctx.policy)
    assert_projection(engine, case_id)


def test_assignment_replaces_a_claim_and_does_not_lapse(engine: Engine, tmp_path: Path) -> None:
    ctx = seed(engine, tmp_path)
    case_id = case_ids(engine, "harassment")[0]
    with unit_of_work(engine) as uow:
        claim(uow, case_id, "alice", ctx.policy)
    with unit_of_work(engine) as uow:
        assign(uow, case_id, "carol", by="lead")
    case = get(engine, case_id)
    assert (case.assignee, case.claim_expires_at) == ("carol", None)
    tail = events(engine, case_id)[-2:]
    assert [(e.type, e.actor) for e in tail] == [
        ("case.released", "lead"),
        ("case.assigned", "lead"),
    ]
    # Long after any claim would have lapsed, nobody else can take it.
    with (
        unit_of_work(engine, clock=clock(at(24 * 60))) as uow,
        pytest.raises(CaseError, match="held by carol"),
    ):
        claim(uow, case_id, "alice", ctx.policy)
    assert_projection(engine, case_id)


def test_deciding_an_unheld_case_claims_it_first(engine: Engine, tmp_path: Path) -> None:
    ctx = seed(engine, tmp_path)
    case_id = case_ids(engine, "harassment")[0]
    with unit_of_work(engine) as uow:
        decide(uow, case_id, reviewer="alice", outcome=Outcome.ESCALATE, policy=ctx.policy)
    assert types(engine, case_id)[-2:] == ["case.claimed", "case.decided"]
    case = get(engine, case_id)
    assert case.status == "escalated"
    assert (
        case.assignee is None
    )  # the decision ends the claim: escalated cases go back to the queue
    assert_projection(engine, case_id)


def test_claim_next_takes_the_first_unheld_case_in_queue_order(
    engine: Engine, tmp_path: Path
) -> None:
    ctx = seed(engine, tmp_path, threats=2, harassment=1)
    threats = case_ids(engine, "threat_to_life")
    with unit_of_work(engine) as uow:
        first = claim_next(uow, "alice", ctx.policy)
        assert first is not None
        assert first.id == threats[0]  # 1 h deadline before harassment's 24 h
    with unit_of_work(engine) as uow:
        second = claim_next(uow, "bob", ctx.policy)
        assert second is not None
        assert second.id == threats[1]
    with unit_of_work(engine) as uow:
        only = claim_next(uow, "carol", ctx.policy, category="threat_to_life")
        assert only is None
        third = claim_next(uow, "carol", ctx.policy, severity="medium")
        assert third is not None
        assert third.category == "harassment"
    with unit_of_work(engine) as uow:
        assert claim_next(uow, "dave", ctx.policy) is None


Attempt = Callable[[UnitOfWork, int, bool], "str | None"]


def _race(engine: Engine, workers: int, attempt: Attempt) -> list[str | None]:
    """Run ``attempt(uow, n)`` in ``workers`` threads at once; each returns its result or error."""
    barrier = threading.Barrier(workers)
    results: list[str | None] = [None] * workers
    pre_read = engine.dialect.name == "postgresql"  # SQLite writers queue at BEGIN instead

    def run(n: int) -> None:
        try:
            if not pre_read:
                barrier.wait(timeout=30)
            with unit_of_work(engine) as uow:
                if pre_read:
                    # Every session sees the case unheld before anyone writes.
                    attempt(uow, n, True)
                    barrier.wait(timeout=30)
                results[n] = attempt(uow, n, False)
        except CaseError as exc:
            results[n] = f"error: {exc}"

    threads = [threading.Thread(target=run, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_concurrent_claims_have_exactly_one_winner(engine: Engine, tmp_path: Path) -> None:
    ctx = seed(engine, tmp_path)
    case_id = case_ids(engine, "harassment")[0]

    def attempt(uow: UnitOfWork, n: int, warm_up: bool) -> str | None:
        if warm_up:
            assert get_in(uow, case_id).assignee is None
            return None
        return claim(uow, case_id, f"reviewer-{n}", ctx.policy).assignee

    results = _race(engine, 4, attempt)
    winners = [r for r in results if r and not r.startswith("error")]
    assert len(winners) == 1, results
    assert all("held by" in r for r in results if r and r.startswith("error")), results
    assert get(engine, case_id).assignee == winners[0]
    assert types(engine, case_id).count("case.claimed") == 1
    assert_projection(engine, case_id)


def test_concurrent_claim_next_hands_out_different_cases(engine: Engine, tmp_path: Path) -> None:
    ctx = seed(engine, tmp_path, threats=3, harassment=0)

    def attempt(uow: UnitOfWork, n: int, warm_up: bool) -> str | None:
        if warm_up:
            return None
        case = claim_next(uow, f"reviewer-{n}", ctx.policy)
        return str(case.id) if case else None

    results = _race(engine, 3, attempt)
    assert sorted(str(r) for r in results) == sorted(
        str(i) for i in case_ids(engine, "threat_to_life")
    ), results


def test_concurrent_decisions_have_exactly_one_winner(engine: Engine, tmp_path: Path) -> None:
    ctx = seed(engine, tmp_path)
    case_id = case_ids(engine, "harassment")[0]

    def attempt(uow: UnitOfWork, n: int, warm_up: bool) -> str | None:
        if warm_up:
            assert get_in(uow, case_id).status == "open"
            return None
        decision = decide(
            uow,
            case_id,
            reviewer=f"reviewer-{n}",
            outcome=Outcome.NOT_VIOLATING,
            policy=ctx.policy,
        )
        return decision.reviewer

    results = _race(engine, 2, attempt)
    assert len([r for r in results if r and not r.startswith("error")]) == 1, results
    assert types(engine, case_id).count("case.decided") == 1


def get_in(uow: UnitOfWork, case_id: int) -> Case:
    case = uow.session.get(Case, case_id)
    assert case is not None
    return case
