"""Decisions on both backends: outcomes, several actions, notes kept from users, four-eyes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.cases.support import assert_projection, at, case_ids, clock, events, get, seed, types
from vigil.actions.models import Action
from vigil.audit.models import Event
from vigil.cases.models import Decision, Outcome, RefusalReason
from vigil.cases.services import (
    CaseError,
    claim,
    confirm,
    decide,
    enforce,
    needs_four_eyes,
    queue,
    refuse_confirmation,
    sweep_deadlines,
)
from vigil.items.models import Account, Item
from vigil.pipeline import ScanContext
from vigil.policy.schema import ActionKind
from vigil.unit_of_work import unit_of_work

A = ActionKind


def _actions(engine: Engine) -> list[tuple[str, int | None]]:
    with Session(engine) as s:
        return [(a.kind, a.decision_id) for a in s.scalars(select(Action).order_by(Action.id))]


def _decision(engine: Engine, decision_id: int) -> Decision:
    with Session(engine) as s:
        d = s.get(Decision, decision_id)
        assert d is not None
        return d


def _threat_awaiting(engine: Engine, tmp_path: Path) -> tuple[ScanContext, int, int]:
    """A threat case (category with four_eyes: true) decided violating by alice."""
    ctx = seed(engine, tmp_path)
    case_id = case_ids(engine, "threat_to_life")[0]
    with unit_of_work(engine) as uow:
        d = decide(
            uow,
            case_id,
            reviewer="alice",
            outcome=Outcome.VIOLATING,
            policy=ctx.policy,
            clause="threat_to_life",
        )
        decision_id = d.id
    return ctx, case_id, decision_id


def test_four_eyes_category_waits_and_applies_nothing(engine: Engine, tmp_path: Path) -> None:
    ctx, case_id, decision_id = _threat_awaiting(engine, tmp_path)
    assert get(engine, case_id).status == "awaiting_confirmation"
    assert _decision(engine, decision_id).status == "awaiting_confirmation"
    assert _actions(engine) == []
    decided = next(e for e in events(engine, case_id) if e.type == "case.decided")
    assert '"four_eyes":true' in decided.body
    with unit_of_work(engine) as uow:
        assert case_id not in [e.case.id for e in queue(uow)]
        assert case_id in [e.case.id for e in queue(uow, confirmations=True)]
        assert queue(uow, confirmations=True, exclude_decided_by="alice") == []
    with unit_of_work(engine) as uow, pytest.raises(CaseError, match="different reviewer"):
        confirm(uow, case_id, "alice", ctx.policy)
    with unit_of_work(engine) as uow, pytest.raises(CaseError, match="cannot also confirm"):
        claim(uow, case_id, "alice", ctx.policy)
    with unit_of_work(engine) as uow, pytest.raises(CaseError, match="awaits a second"):
        decide(uow, case_id, reviewer="bob", outcome=Outcome.NOT_VIOLATING, policy=ctx.policy)
    assert_projection(engine, case_id)


def test_a_different_reviewer_confirms_and_the_actions_apply(
    engine: Engine, tmp_path: Path
) -> None:
    ctx, case_id, decision_id = _threat_awaiting(engine, tmp_path)
    with unit_of_work(engine) as uow:
        confirm(uow, case_id, "bob", ctx.policy)
    d = _decision(engine, decision_id)
    assert (d.status, d.reviewer, d.confirmed_by) == ("final", "alice", "bob")
    assert d.confirmed_at is not None
    assert get(engine, case_id).status == "closed"
    # threat_to_life weighs 5: the strike crosses warn, restrict and suspend at once,
    # and only the strongest step is taken, after the decision's own action.
    assert d.escalation == ["warn_account", "restrict_account", "suspend_account"]
    assert _actions(engine) == [("remove_content", decision_id), ("suspend_account", decision_id)]
    with Session(engine) as s:
        applied = list(s.scalars(select(Event).where(Event.type == "action.applied")))
        assert [e.actor for e in applied] == ["bob", "bob"]
    assert types(engine, case_id)[-1] == "case.confirmed"
    with unit_of_work(engine) as uow, pytest.raises(CaseError, match="no decision awaiting"):
        confirm(uow, case_id, "carol", ctx.policy)
    assert_projection(engine, case_id)


def test_refused_confirmation_sends_the_case_back(engine: Engine, tmp_path: Path) -> None:
    ctx, case_id, decision_id = _threat_awaiting(engine, tmp_path)
    with unit_of_work(engine) as uow, pytest.raises(CaseError, match="reason: 'because'"):
        refuse_confirmation(uow, case_id, "bob", "because")
    with unit_of_work(engine) as uow:
        refuse_confirmation(
            uow, case_id, "bob", RefusalReason.WRONG_CLAUSE, "looks like a quote, not a threat"
        )
    d = _decision(engine, decision_id)
    assert (d.status, d.refused_by, d.refusal_reason) == ("refused", "bob", "wrong_clause")
    assert d.refusal_note == "looks like a quote, not a threat"
    assert d.confirmed_by is None
    assert get(engine, case_id).status == "open"
    assert _actions(engine) == []
    refused = events(engine, case_id)[-1]
    assert refused.type == "case.confirmation_refused"
    assert "looks like a quote" not in refused.body
    with unit_of_work(engine) as uow:
        assert case_id in [e.case.id for e in queue(uow)]
        decide(uow, case_id, reviewer="carol", outcome=Outcome.NOT_VIOLATING, policy=ctx.policy)
    assert get(engine, case_id).status == "closed"
    assert _actions(engine) == []
    assert_projection(engine, case_id)


def test_a_confirmer_cannot_take_a_case_someone_else_holds(engine: Engine, tmp_path: Path) -> None:
    ctx, case_id, _ = _threat_awaiting(engine, tmp_path)
    with unit_of_work(engine) as uow:
        claim(uow, case_id, "carol", ctx.policy)
    with unit_of_work(engine) as uow, pytest.raises(CaseError, match="held by carol"):
        confirm(uow, case_id, "bob", ctx.policy)
    with unit_of_work(engine) as uow, pytest.raises(CaseError, match="held by carol"):
        refuse_confirmation(uow, case_id, "bob", RefusalReason.OTHER)
    with unit_of_work(engine) as uow:
        confirm(uow, case_id, "carol", ctx.policy)
    assert get(engine, case_id).assignee is None
    assert_projection(engine, case_id)


def test_a_four_eyes_action_needs_confirmation_in_any_category(
    engine: Engine, tmp_path: Path
) -> None:
    ctx = seed(engine, tmp_path)
    assert not ctx.policy.category("harassment").four_eyes
    assert A.CLOSE_ACCOUNT in ctx.policy.enforcement.four_eyes_actions
    case_id = case_ids(engine, "harassment")[0]
    with unit_of_work(engine) as uow:
        d = decide(
            uow,
            case_id,
            reviewer="alice",
            outcome=Outcome.VIOLATING,
            policy=ctx.policy,
            clause="harassment",
            actions=[A.RESTRICT_VISIBILITY, A.CLOSE_ACCOUNT],
        )
        assert d.status == "awaiting_confirmation"
    assert _actions(engine) == []
    with unit_of_work(engine) as uow:
        confirm(uow, case_id, "bob", ctx.policy)
    # The harassment strike (weight 2) also crosses the first step: a warning.
    assert [k for k, _ in _actions(engine)] == [
        "restrict_visibility",
        "close_account",
        "warn_account",
    ]
    with Session(engine) as s:
        item_row = s.get(Item, get(engine, case_id).item_id)
        assert item_row is not None
        assert item_row.status == "restricted"
        account = s.get(Account, item_row.account_id)
        assert account is not None
        assert account.status == "closed"


def test_escalation_is_stored_counted_for_four_eyes_and_the_strike_decides_what_applies(
    engine: Engine, tmp_path: Path
) -> None:
    """A given escalation is what the reviewers approve; the strike decides which step is taken."""
    ctx = seed(engine, tmp_path, harassment=2)
    closing, suspending = case_ids(engine, "harassment")
    with unit_of_work(engine) as uow:
        d = decide(
            uow,
            closing,
            reviewer="alice",
            outcome=Outcome.VIOLATING,
            policy=ctx.policy,
            clause="harassment",
            escalation=[A.CLOSE_ACCOUNT],
        )
        assert (d.status, d.actions, d.escalation) == (
            "awaiting_confirmation",
            ["restrict_visibility"],
            ["close_account"],
        )
        d2 = decide(
            uow,
            suspending,
            reviewer="alice",
            outcome=Outcome.VIOLATING,
            policy=ctx.policy,
            clause="harassment",
            escalation=[A.SUSPEND_ACCOUNT],
        )
        assert d2.status == "final"
        first, second = d.id, d2.id
    # A first harassment strike (weight 2) reaches the warning only: the approved
    # suspension is not a step this strike crosses, so it is not taken.
    assert _actions(engine) == [("restrict_visibility", second), ("warn_account", second)]
    decided = next(e for e in events(engine, suspending) if e.type == "case.decided")
    assert '"escalation":["suspend_account"]' in decided.body
    with unit_of_work(engine) as uow:
        confirm(uow, closing, "bob", ctx.policy)
    assert _actions(engine)[2:] == [("restrict_visibility", first), ("warn_account", first)]


def test_several_actions_and_notes_kept_apart_from_the_user_message(
    engine: Engine, tmp_path: Path
) -> None:
    ctx = seed(engine, tmp_path)
    case_id = case_ids(engine, "harassment")[0]
    with unit_of_work(engine) as uow:
        d = decide(
            uow,
            case_id,
            reviewer="alice",
            outcome=Outcome.VIOLATING,
            policy=ctx.policy,
            clause="harassment",
            actions=[A.REMOVE_CONTENT, A.RESTRICT_VISIBILITY, A.REMOVE_CONTENT],
            note="INTERNAL-ONLY second report from the same sender",
            user_message="USER-FACING your post broke our harassment rules",
        )
        decision_id = d.id
    stored = _decision(engine, decision_id)
    assert stored.actions == ["remove_content", "restrict_visibility"]
    assert stored.note == "INTERNAL-ONLY second report from the same sender"
    assert stored.user_message == "USER-FACING your post broke our harassment rules"
    # The content actions, once each (the strike's warning comes on top, on the account).
    assert [(k, d) for k, d in _actions(engine) if not A(k).targets_account] == [
        ("remove_content", decision_id),
        ("restrict_visibility", decision_id),
    ]
    with Session(engine) as s:
        bodies = " ".join(s.scalars(select(Event.body)))
    assert "INTERNAL-ONLY" not in bodies
    assert "USER-FACING" not in bodies


@pytest.mark.parametrize(
    ("outcome", "kwargs", "message"),
    [
        (Outcome.VIOLATING, {}, "clause: a violating decision names"),
        (Outcome.VIOLATING, {"clause": "made_up"}, "not a category"),
        (
            Outcome.VIOLATING,
            {"clause": "harassment", "escalation": [A.REMOVE_CONTENT]},
            "escalation: remove_content is not an account action",
        ),
        (Outcome.NOT_VIOLATING, {"actions": [A.REMOVE_CONTENT]}, "only a violating decision"),
        (Outcome.ESCALATE, {"escalation": [A.WARN_ACCOUNT]}, "only a violating decision"),
        (Outcome.NOT_VIOLATING, {"clause": "made_up"}, "not a category"),
    ],
)
def test_invalid_decisions_are_refused_and_change_nothing(
    engine: Engine, tmp_path: Path, outcome: Outcome, kwargs: dict[str, object], message: str
) -> None:
    ctx = seed(engine, tmp_path)
    case_id = case_ids(engine, "harassment")[0]
    with unit_of_work(engine) as uow, pytest.raises(CaseError, match=message):
        decide(
            uow,
            case_id,
            reviewer="alice",
            outcome=outcome,
            policy=ctx.policy,
            **kwargs,  # type: ignore[arg-type]
        )
    assert get(engine, case_id).status == "open"
    assert "case.decided" not in types(engine, case_id)


def test_a_late_decision_records_the_missed_deadline_once(engine: Engine, tmp_path: Path) -> None:
    ctx = seed(engine, tmp_path, threats=0)
    case_id = case_ids(engine, "harassment")[0]
    late = at(25 * 60)  # harassment is due within 24 h
    with unit_of_work(engine, clock=clock(late)) as uow:
        decide(uow, case_id, reviewer="alice", outcome=Outcome.NOT_VIOLATING, policy=ctx.policy)
    case = get(engine, case_id)
    assert case.deadline_missed_at == late
    assert types(engine, case_id)[-2:] == ["case.deadline_missed", "case.decided"]
    with unit_of_work(engine, clock=clock(late)) as uow:
        assert sweep_deadlines(uow) == 0
    assert types(engine, case_id).count("case.deadline_missed") == 1


def test_four_eyes_rule(engine: Engine, tmp_path: Path) -> None:
    ctx = seed(engine, tmp_path, threats=0, harassment=0)
    p = ctx.policy
    assert needs_four_eyes(p, "threat_to_life", [A.RESTRICT_VISIBILITY], [])
    assert not needs_four_eyes(p, "harassment", [A.REMOVE_CONTENT, A.SUSPEND_ACCOUNT], [])
    assert needs_four_eyes(p, "harassment", [A.REMOVE_CONTENT], [A.CLOSE_ACCOUNT])


def test_enforce_applies_nothing_for_a_decision_that_is_not_violating(
    engine: Engine, tmp_path: Path
) -> None:
    ctx = seed(engine, tmp_path)
    case_id = case_ids(engine, "harassment")[0]
    with unit_of_work(engine) as uow:
        d = decide(uow, case_id, reviewer="alice", outcome=Outcome.NOT_VIOLATING, policy=ctx.policy)
        assert d.status == "final"
        assert enforce(uow, get(engine, case_id), d, ctx.policy) == []
    assert _actions(engine) == []
