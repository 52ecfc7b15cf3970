"""An account's of-concern status comes only from its own content and conduct.

Notices against it that were not upheld, other accounts' strikes and verdicts,
its country and account type, and the notices it filed itself leave its
standing exactly as it was; a verdict on its own content that is upheld does not.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.support.enforcement import (
    Clock,
    account,
    automated,
    case_for,
    decide,
    default_policy,
    notice,
    post,
    verdict,
    violation,
)
from vigil.cases.models import Case, Outcome
from vigil.items.models import Account
from vigil.policy.schema import ActionKind
from vigil.strikes import services as strikes
from vigil.strikes.services import AccountStanding
from vigil.unit_of_work import UnitOfWork, unit_of_work


def _strike(uow: UnitOfWork, owner: Account, pid: str, category: str) -> None:
    item = post(uow, owner, pid)
    decision, actions = violation(uow, item, category)
    strikes.issue(
        uow,
        account_id=owner.id,
        item_id=item.id,
        category=category,
        policy=default_policy(),
        decision_id=decision.id,
        action_id=actions[0].id,
    )


def _view(s: AccountStanding) -> tuple[object, ...]:
    return (
        [x.id for x in s.active],
        [x.id for x in s.expired],
        [x.id for x in s.removed],
        s.active_weight,
        s.concern,
    )


def test_only_the_accounts_own_record_counts(engine: Engine) -> None:
    clock = Clock()
    policy = default_policy()
    with unit_of_work(engine, clock=clock) as uow:
        a = account(uow, "acct-a", country="DE", account_type="private")
        b = account(uow, "acct-b", country="DE")
        _strike(uow, a, "a-1", "hate")
        automated(uow, post(uow, a, "a-2"), "spam")
        a_id, b_id = a.id, b.id
    clock.advance(days=3)
    with unit_of_work(engine, clock=clock) as uow:
        before = strikes.standing(uow, a_id, policy)
    assert before.concern.score > 0
    assert {r.kind for r in before.concern.reasons} == {"strike", "verdict"}

    with unit_of_work(engine, clock=clock) as uow:
        a = uow.session.get_one(Account, a_id)
        b = uow.session.get_one(Account, b_id)
        # A flood of notices against A: one batch reviewed and not upheld, one still pending.
        flooded = post(uow, a, "a-3")
        for n in range(5):
            notice(uow, flooded, f"harasser-{n}", "hate")
        decide(uow, case_for(uow, flooded, "hate"), reviewer="bob", outcome=Outcome.NOT_VIOLATING)
        pending = post(uow, a, "a-4")
        notice(uow, pending, "harasser-0", "terrorism")
        pending_case = case_for(uow, pending, "terrorism")
        verdict(uow, pending, "terrorism")  # a second verdict, also unreviewed
        # Another account's strikes and upheld verdicts.
        _strike(uow, b, "b-1", "terrorism")
        _strike(uow, b, "b-2", "hate")
        automated(uow, post(uow, b, "b-3"), "spam", [ActionKind.REMOVE_CONTENT])
        # Notices A filed against B's content, upheld against B.
        reported = post(uow, b, "b-4")
        notice(uow, reported, "acct-a", "harassment")
        violation(uow, reported, "harassment", actions=[ActionKind.RESTRICT_VISIBILITY])
        # A's country and account type.
        a.country = "US"
        a.account_type = "business"
        pending_case_id = pending_case.id
    with unit_of_work(engine, clock=clock) as uow:
        after = strikes.standing(uow, a_id, policy)
        other = strikes.standing(uow, b_id, policy)
    assert _view(after) == _view(before)
    # The noise is real: on B's own account the same kinds of record do count.
    assert other.active_weight == 5 + 2
    assert other.concern.of_concern
    assert len([r for r in other.concern.reasons if r.kind == "verdict"]) == 4

    # Once a verdict on A's own content is upheld, it counts.
    with unit_of_work(engine, clock=clock) as uow:
        decide(uow, uow.session.get_one(Case, pending_case_id), reviewer="bob")
        upheld = strikes.standing(uow, a_id, policy)
    verdict_weight = policy.enforcement.of_concern.verdict_weight
    assert upheld.concern.score == pytest.approx(before.concern.score + verdict_weight)
    assert upheld.active_weight == before.active_weight  # no strike was issued here
