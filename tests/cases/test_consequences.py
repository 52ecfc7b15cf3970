"""What follows a decision, on both backends: the strike, the strongest escalation step, a
four-eyes step held for review, the notifiers' answer, and what an appeal undoes or reopens."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.support.enforcement import Clock, account, default_policy, notice, post, verdict
from tests.support.spine import add_bank, context, item, write_jsonl
from vigil.actions.models import Action
from vigil.appeals import services as appeals
from vigil.audit.models import Event
from vigil.cases.consequences import ESCALATION_RULE
from vigil.cases.models import Case, Decision, Outcome
from vigil.cases.services import confirm, decide, open_or_attach
from vigil.ingest.services import ingest_file
from vigil.items.models import Account, Item, Notice
from vigil.policy.defaults import default_policy_text
from vigil.policy.models import Verdict
from vigil.policy.schema import ActionKind
from vigil.strikes import services as strikes
from vigil.strikes.models import Strike
from vigil.unit_of_work import unit_of_work

A = ActionKind
POLICY = default_policy()
TERROR_SHA = "cd" * 32


# ---------------------------------------------------------------------------
# Helpers


def _author(engine: Engine, clock: Clock, pid: str = "acct-1", posts: int = 1) -> list[int]:
    """An account and its posts; returns the posts' ids."""
    with unit_of_work(engine, clock=clock) as uow:
        who = account(uow, pid)
        return [post(uow, who, f"{pid}-post-{n}").id for n in range(posts)]


def _open(engine: Engine, clock: Clock, item_id: int, category: str) -> int:
    """A case on the item from a fresh verdict, opened as the pipeline opens one."""
    with unit_of_work(engine, clock=clock) as uow:
        row = uow.session.get(Item, item_id)
        assert row is not None
        case, opened = open_or_attach(uow, verdict(uow, row, category), POLICY)
        assert opened
        return case.id


def _decide(
    engine: Engine,
    clock: Clock,
    case_id: int,
    category: str,
    *,
    confirmer: str | None = None,
    outcome: Outcome = Outcome.VIOLATING,
    **kw: Any,
) -> Decision:
    """Alice decides the case; ``confirmer`` confirms it when it waits for four eyes."""
    with unit_of_work(engine, clock=clock) as uow:
        d = decide(
            uow,
            case_id,
            reviewer="alice",
            outcome=outcome,
            policy=POLICY,
            clause=category if outcome is Outcome.VIOLATING else None,
            **kw,
        )
        if confirmer is not None:
            assert d.status == "awaiting_confirmation"
            confirm(uow, case_id, confirmer, POLICY)
        uow.session.flush()
        uow.session.expunge(d)
        return d


def _violation(engine: Engine, clock: Clock, item_id: int, category: str, **kw: Any) -> Decision:
    return _decide(engine, clock, _open(engine, clock, item_id, category), category, **kw)


def _actions(engine: Engine) -> list[tuple[str, int | None]]:
    with Session(engine) as s:
        return [(a.kind, a.decision_id) for a in s.scalars(select(Action).order_by(Action.id))]


def _strikes(engine: Engine) -> list[Strike]:
    with Session(engine) as s:
        return list(s.scalars(select(Strike).order_by(Strike.id)))


def _payloads(engine: Engine, type_: str) -> list[dict[str, Any]]:
    with Session(engine) as s:
        rows = s.scalars(select(Event.body).where(Event.type == type_).order_by(Event.seq))
        return [json.loads(body)["payload"] for body in rows]


def _account(engine: Engine, item_id: int) -> Account:
    with Session(engine) as s:
        row = s.get(Item, item_id)
        assert row is not None
        return s.get_one(Account, row.account_id)


def _escalation_cases(engine: Engine) -> list[tuple[Case, Verdict]]:
    """Cases resting on a held escalation step's verdict."""
    with Session(engine) as s:
        rows = s.execute(
            select(Case, Verdict)
            .join(Verdict, Verdict.id == Case.verdict_id)
            .where(Verdict.rule_id == ESCALATION_RULE)
            .order_by(Case.id)
        )
        return [(c, v) for c, v in rows]


# ---------------------------------------------------------------------------
# Strikes and the strongest step


def test_a_final_violating_decision_issues_one_strike_and_escalates(engine: Engine) -> None:
    clock = Clock()
    first, second = _author(engine, clock, posts=2)
    d1 = _violation(engine, clock, first, "hate")
    assert (d1.status, d1.escalation) == ("final", ["warn_account"])

    (strike,) = _strikes(engine)
    assert (strike.category, strike.weight, strike.decision_id, strike.item_id) == (
        "hate",
        2,
        d1.id,
        first,
    )
    assert strike.issued_at == clock.now
    assert strike.expires_at == clock.now + timedelta(days=180)
    actions = _actions(engine)
    assert actions == [("remove_content", d1.id), ("warn_account", d1.id)]
    with Session(engine) as s:
        removal = s.scalars(select(Action.id).where(Action.kind == "remove_content")).one()
    assert strike.action_id == removal
    account_id = _account(engine, first).id
    assert _payloads(engine, "strike.issued") == [
        {
            "strike_id": strike.id,
            "account_id": account_id,
            "category": "hate",
            "weight": 2,
            "expires_at": (clock.now + timedelta(days=180)).isoformat(),
            "decision_id": d1.id,
            "action_id": removal,
        }
    ]
    assert _payloads(engine, "account.escalated") == [
        {"account_id": account_id, "weight_before": 0, "weight_after": 2, "action": "warn_account"}
    ]

    # Another violation by the same account adds its weight and reaches the next step.
    clock.advance(days=1)
    d2 = _violation(engine, clock, second, "harassment")
    assert [s.weight for s in _strikes(engine)] == [2, 2]
    with unit_of_work(engine, clock=clock) as uow:
        assert strikes.weight_now(uow, account_id) == 4
    assert _actions(engine)[2:] == [("remove_content", d2.id), ("restrict_account", d2.id)]
    assert _account(engine, second).status == "restricted"
    assert _payloads(engine, "account.escalated")[1:] == [
        {
            "account_id": account_id,
            "weight_before": 2,
            "weight_after": 4,
            "action": "restrict_account",
        }
    ]


def test_crossing_several_steps_takes_only_the_strongest(engine: Engine) -> None:
    clock = Clock()
    (item_id,) = _author(engine, clock)
    case_id = _open(engine, clock, item_id, "terrorism")
    with unit_of_work(engine, clock=clock) as uow:
        d = decide(
            uow,
            case_id,
            reviewer="alice",
            outcome=Outcome.VIOLATING,
            policy=POLICY,
            clause="terrorism",
        )
        assert d.status == "awaiting_confirmation"  # terrorism is four-eyes
        assert d.escalation == ["warn_account", "restrict_account", "suspend_account"]
        decision_id = d.id
    assert _actions(engine) == []
    assert _strikes(engine) == []  # nothing follows before the second reviewer
    with unit_of_work(engine, clock=clock) as uow:
        confirm(uow, case_id, "bob", POLICY)
    (strike,) = _strikes(engine)
    assert (strike.category, strike.weight) == ("terrorism", 5)
    assert strike.expires_at == clock.now + timedelta(days=365)
    # Weight 5 crosses warn (1), restrict (3) and suspend (5): only the suspension is taken.
    assert _actions(engine) == [("remove_content", decision_id), ("suspend_account", decision_id)]
    assert [p["action"] for p in _payloads(engine, "account.escalated")] == [
        "warn_account",
        "restrict_account",
        "suspend_account",
    ]
    assert _account(engine, item_id).status == "suspended"


# ---------------------------------------------------------------------------
# Four eyes on an escalation that would close the account


def test_the_preview_brings_four_eyes_when_the_account_would_be_closed(engine: Engine) -> None:
    clock = Clock()
    items = _author(engine, clock, posts=4)
    assert not POLICY.category("harassment").four_eyes
    for n in range(3):  # weights 2, 4, 6: each decision final at once
        clock.advance(hours=1)
        assert _violation(engine, clock, items[n], "harassment").status == "final"
    before = _actions(engine)
    case_id = _open(engine, clock, items[3], "harassment")
    with unit_of_work(engine, clock=clock) as uow:
        d = decide(
            uow,
            case_id,
            reviewer="alice",
            outcome=Outcome.VIOLATING,
            policy=POLICY,
            clause="harassment",
        )
        # 6 + 2 reaches close_account (8): this harassment decision needs a second reviewer.
        assert (d.status, d.escalation) == ("awaiting_confirmation", ["close_account"])
        decision_id = d.id
    assert _actions(engine) == before
    assert len(_strikes(engine)) == 3
    with unit_of_work(engine, clock=clock) as uow:
        confirm(uow, case_id, "bob", POLICY)
    assert _actions(engine)[len(before) :] == [
        ("remove_content", decision_id),
        ("close_account", decision_id),
    ]
    assert _account(engine, items[3]).status == "closed"
    assert len(_strikes(engine)) == 4
    assert _escalation_cases(engine) == []  # approved by two people: nothing held


def _decide_held_case(engine: Engine, clock: Clock, case_id: int, category: str) -> int:
    """Carol decides the held step; it waits for Dave, then closes the account."""
    with unit_of_work(engine, clock=clock) as uow:
        d = decide(
            uow,
            case_id,
            reviewer="carol",
            outcome=Outcome.VIOLATING,
            policy=POLICY,
            clause=category,
        )
        assert (d.status, d.actions, d.escalation) == (
            "awaiting_confirmation",
            ["close_account"],
            [],
        )
        decision_id = d.id
    assert ("close_account", decision_id) not in _actions(engine)
    with unit_of_work(engine, clock=clock) as uow:
        confirm(uow, case_id, "dave", POLICY)
    return decision_id


def test_a_step_the_reviewers_never_saw_is_held_for_review(engine: Engine) -> None:
    """The weight grew between the decision and its confirmation: closing waits for a case."""
    clock = Clock()
    items = _author(engine, clock, posts=3)
    terror_case = _open(engine, clock, items[0], "terrorism")
    with unit_of_work(engine, clock=clock) as uow:
        d = decide(
            uow,
            terror_case,
            reviewer="alice",
            outcome=Outcome.VIOLATING,
            policy=POLICY,
            clause="terrorism",
        )
        assert d.escalation == ["warn_account", "restrict_account", "suspend_account"]
        terror_decision = d.id
    clock.advance(hours=1)
    _violation(engine, clock, items[1], "hate")  # weight 2: warned
    _violation(engine, clock, items[2], "hate")  # weight 4: restricted
    clock.advance(hours=1)
    with unit_of_work(engine, clock=clock) as uow:
        confirm(uow, terror_case, "bob", POLICY)
    # 4 + 5 crosses suspend (5) and close (8). The suspension is taken; the closure,
    # which nobody approved, is not.
    terror_actions = [k for k, d_id in _actions(engine) if d_id == terror_decision]
    assert terror_actions == ["remove_content", "suspend_account"]
    assert "close_account" not in [k for k, _ in _actions(engine)]
    assert _account(engine, items[0]).status == "suspended"
    ((case, held),) = _escalation_cases(engine)
    assert (held.item_id, held.category, held.action, held.review_required) == (
        items[0],
        "terrorism",
        "close_account",
        True,
    )
    assert (case.item_id, case.status, case.proposed_action) == (
        items[0],
        "open",
        "close_account",
    )
    assert case.deadline_at is not None
    verdict_events = _payloads(engine, "verdict.reached")
    assert {"verdict_id": held.id, "rule_id": ESCALATION_RULE} in [
        {"verdict_id": p["verdict_id"], "rule_id": p["rule_id"]} for p in verdict_events
    ]

    clock.advance(hours=1)
    decision_id = _decide_held_case(engine, clock, case.id, "terrorism")
    assert _actions(engine)[-1] == ("close_account", decision_id)
    assert _account(engine, items[0]).status == "closed"
    assert len(_strikes(engine)) == 3  # the held step brings no second strike
    assert len(_payloads(engine, "strike.issued")) == 3


# ---------------------------------------------------------------------------
# Automated actions


def _terror_post(
    engine: Engine, tmp_path: Path, clock: Clock, policy: Path | None, pid: str
) -> int:
    """A post matching known terrorist content: the default policy removes it without review."""
    ctx = context(engine, policy)
    record = item(
        pid, "look", media=[{"url": f"https://cdn.example/{pid}.png", "sha256": TERROR_SHA}]
    )
    summary = ingest_file(
        engine, write_jsonl(tmp_path / f"{pid}.jsonl", [record]), ctx, clock=clock
    )
    assert summary.outcome.verdicts == 1
    with Session(engine) as s:
        return s.scalars(select(Item.id).where(Item.platform_item_id == pid)).one()


def _automated_strikes_policy(tmp_path: Path) -> Path:
    text = default_policy_text()
    assert text.count("automated_strikes: false") == 1
    path = tmp_path / "automated-strikes.yaml"
    path.write_text(text.replace("automated_strikes: false", "automated_strikes: true"))
    return path


def test_automated_actions_give_no_strike_by_default(engine: Engine, tmp_path: Path) -> None:
    assert POLICY.enforcement.automated_strikes is False
    add_bank(engine, tmp_path, "terror", "sha256", "terrorism", [TERROR_SHA])
    clock = Clock()
    item_id = _terror_post(engine, tmp_path, clock, None, "t-1")
    with Session(engine) as s:
        (action,) = s.scalars(select(Action))
        assert (action.kind, action.automated, action.item_id) == ("remove_content", True, item_id)
    assert _strikes(engine) == []
    assert _payloads(engine, "account.escalated") == []
    assert _account(engine, item_id).status == "active"


def test_automated_strikes_escalate_and_hold_the_closure(engine: Engine, tmp_path: Path) -> None:
    policy = _automated_strikes_policy(tmp_path)
    add_bank(engine, tmp_path, "terror", "sha256", "terrorism", [TERROR_SHA])
    clock = Clock()
    first = _terror_post(engine, tmp_path, clock, policy, "t-1")
    (strike,) = _strikes(engine)
    with Session(engine) as s:
        removal, suspension = s.scalars(select(Action).order_by(Action.id))
        assert (removal.kind, suspension.kind) == ("remove_content", "suspend_account")
        assert (removal.automated, suspension.automated) == (True, True)
        assert removal.verdict_id is not None
        assert suspension.verdict_id == removal.verdict_id
    assert (strike.weight, strike.decision_id, strike.action_id) == (5, None, removal.id)
    assert _account(engine, first).status == "suspended"

    # A second match: 5 + 5 reaches close_account, which automation never applies.
    clock.advance(hours=1)
    second = _terror_post(engine, tmp_path, clock, policy, "t-2")
    assert len(_strikes(engine)) == 2
    assert "close_account" not in [k for k, _ in _actions(engine)]
    assert _account(engine, second).status == "suspended"
    ((case, held),) = _escalation_cases(engine)
    assert (case.item_id, case.status, case.proposed_action) == (second, "open", "close_account")
    assert (held.rule_id, held.action) == (ESCALATION_RULE, "close_account")

    clock.advance(hours=1)
    decision_id = _decide_held_case(engine, clock, case.id, "terrorism")
    assert _actions(engine)[-1] == ("close_account", decision_id)
    assert _account(engine, second).status == "closed"
    assert len(_strikes(engine)) == 2


# ---------------------------------------------------------------------------
# Notifiers


def test_decisions_answer_the_notifiers(engine: Engine) -> None:
    clock = Clock()
    items = {o: _author(engine, clock, f"acct-{o.value}")[0] for o in Outcome}
    with unit_of_work(engine, clock=clock) as uow:
        for item_id in items.values():
            row = uow.session.get(Item, item_id)
            assert row is not None
            notice(uow, row, "notifier-1", "harassment")
    decisions = {
        o: _violation(engine, clock, item_id, "harassment", outcome=o)
        for o, item_id in items.items()
    }
    with Session(engine) as s:
        answered = {n.item_id: (n.outcome, n.decision_id) for n in s.scalars(select(Notice))}
    assert answered == {
        items[Outcome.VIOLATING]: ("action_taken", decisions[Outcome.VIOLATING].id),
        items[Outcome.NOT_VIOLATING]: ("no_action", decisions[Outcome.NOT_VIOLATING].id),
        items[Outcome.ESCALATE]: (None, None),
    }
    assert sorted(
        (p["item_id"], p["outcome"]) for p in _payloads(engine, "notice.outcome")
    ) == sorted(
        [(items[Outcome.VIOLATING], "action_taken"), (items[Outcome.NOT_VIOLATING], "no_action")]
    )


# ---------------------------------------------------------------------------
# Appeals


def test_a_reversed_appeal_removes_the_strike_and_the_escalation(engine: Engine) -> None:
    clock = Clock()
    (item_id,) = _author(engine, clock)
    d = _violation(engine, clock, item_id, "terrorism", confirmer="bob")
    assert _account(engine, item_id).status == "suspended"
    (strike,) = _strikes(engine)
    clock.advance(days=1)
    with unit_of_work(engine, clock=clock) as uow:
        appeal = appeals.file(
            uow,
            decision_id=d.id,
            appellant="acct-1",
            appellant_kind="affected_user",
            reason=None,
            policy=POLICY,
        )
        appeal_id = appeal.id
    with unit_of_work(engine, clock=clock) as uow:
        result = appeals.decide(
            uow,
            appeal_id,
            reviewer="carol",
            outcome="reversed",
            reasoning="A news report, not propaganda.",
            policy=POLICY,
        )
        assert sorted(a.kind for a in result.reversed_actions) == [
            "remove_content",
            "suspend_account",
        ]
        assert [s.id for s in result.removed_strikes] == [strike.id]
    (removed,) = _strikes(engine)
    assert (removed.removed_at, removed.removed_by_appeal_id) == (clock.now, appeal_id)
    with unit_of_work(engine, clock=clock) as uow:
        assert strikes.weight_now(uow, removed.account_id) == 0
    with Session(engine) as s:
        assert all(a.reversed_at == clock.now for a in s.scalars(select(Action)))
        assert s.get_one(Item, item_id).status == "visible"
    assert _account(engine, item_id).status == "active"
    assert _payloads(engine, "strike.removed") == [
        {"strike_id": strike.id, "account_id": removed.account_id, "appeal_id": appeal_id}
    ]


def test_a_notifiers_successful_appeal_reopens_the_item(engine: Engine) -> None:
    clock = Clock()
    (item_id,) = _author(engine, clock)
    with unit_of_work(engine, clock=clock) as uow:
        row = uow.session.get(Item, item_id)
        assert row is not None
        notice(uow, row, "notifier-7", "hate")
    first_case = _open(engine, clock, item_id, "hate")
    d = _decide(engine, clock, first_case, "hate", outcome=Outcome.NOT_VIOLATING)
    with Session(engine) as s:
        assert s.scalars(select(Notice.outcome)).one() == "no_action"
    clock.advance(days=1)
    with unit_of_work(engine, clock=clock) as uow:
        appeal_id = appeals.file(
            uow,
            decision_id=d.id,
            appellant="notifier-7",
            appellant_kind="notifier",
            reason=None,
            policy=POLICY,
        ).id
    clock.advance(hours=3)
    with unit_of_work(engine, clock=clock) as uow:
        result = appeals.decide(
            uow,
            appeal_id,
            reviewer="bob",
            outcome="reversed",
            reasoning="The post is hate speech.",
            policy=POLICY,
        )
        assert result.needs_new_review
    with Session(engine) as s:
        reopened = s.scalars(
            select(Case).where(Case.item_id == item_id, Case.status == "open")
        ).one()
    assert reopened.id != first_case
    assert reopened.deadline_at == clock.now + POLICY.appeals.deadline_delta
    with Session(engine) as s:
        body = s.scalars(
            select(Event.body).where(
                Event.type == "case.opened", Event.subject == f"case:{reopened.id}"
            )
        ).one()
    payload = json.loads(body)["payload"]
    assert (payload["appeal_id"], payload["item_id"]) == (appeal_id, item_id)
    # Nothing is taken against the author until the new review decides.
    assert _actions(engine) == []
    assert _strikes(engine) == []


def test_a_late_notice_on_an_escalation_case_is_answered_by_the_content(
    engine: Engine, tmp_path: Path
) -> None:
    """The escalation case is about the account: declining the closure does not tell a
    notifier "no action" about content an earlier verdict already removed."""
    policy = _automated_strikes_policy(tmp_path)
    add_bank(engine, tmp_path, "terror", "sha256", "terrorism", [TERROR_SHA])
    clock = Clock()
    _terror_post(engine, tmp_path, clock, policy, "t-1")
    clock.advance(hours=1)
    second = _terror_post(engine, tmp_path, clock, policy, "t-2")
    ((case, _),) = _escalation_cases(engine)
    with unit_of_work(engine, clock=clock) as uow:
        row = uow.session.get(Item, second)
        assert row is not None
        assert row.status == "removed"
        notice(uow, row, "late-notifier", "terrorism")
    with unit_of_work(engine, clock=clock) as uow:
        d = decide(uow, case.id, reviewer="carol", outcome=Outcome.NOT_VIOLATING, policy=POLICY)
        decision_id = d.id
    with Session(engine) as s:
        (late,) = s.scalars(select(Notice).where(Notice.reporter == "late-notifier"))
        assert (late.outcome, late.decision_id) == ("action_taken", decision_id)
    assert _account(engine, second).status == "suspended"
