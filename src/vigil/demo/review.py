"""The demo's review shift: simulated reviewers work part of the queue, as people would.

alice takes cases from the queue, looks at the evidence (a logged view) and
decides; bob confirms the decisions that need four eyes; carol, who decided
none of them, answers two appeals: one reversed, one upheld. The reviewers
know the generator's ground truth, standing in for what a person sees in the
content. Part of every queue is left undecided, so the console and report show
a real, non-empty queue with its deadlines.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from vigil.actions.models import Action
from vigil.appeals import services as appeals
from vigil.audit.models import Event
from vigil.cases import services as cases
from vigil.cases.models import Case, CaseStatus, Decision, DecisionStatus, Outcome
from vigil.items.models import Account, Item
from vigil.policy.schema import Policy
from vigil.unit_of_work import unit_of_work

REVIEWER, SECOND_REVIEWER, APPEALS_REVIEWER = "alice", "bob", "carol"


@dataclass
class ReviewShift:
    """What the shift did; every figure is read back from the database afterwards."""

    decided: Counter[str] = field(default_factory=Counter)  # by outcome
    confirmed: int = 0
    escalations: dict[str, int] = field(default_factory=dict)  # account actions by kind
    strikes: int = 0
    appeals: dict[str, int] = field(default_factory=dict)  # decided appeals by outcome
    notices_answered: int = 0
    queue_left: dict[str, int] = field(default_factory=dict)  # open cases by category


def _verdict_of(truth: Mapping[str, str], item: Item, case: Case, policy: Policy) -> str | None:
    """The category the content really falls under, if any (the reviewer's judgement)."""
    planted = truth.get(item.platform_item_id)
    if planted is None:
        return None
    return planted if planted in policy.categories else case.category


def _decide_one(engine: Engine, case_id: int, truth: Mapping[str, str], policy: Policy) -> None:
    with unit_of_work(engine) as uow:
        seen = cases.view(uow, case_id, reviewer=REVIEWER, purpose="review")
        clause = _verdict_of(truth, seen.item, seen.case, policy)
        if clause is None:
            decision = cases.decide(
                uow,
                case_id,
                reviewer=REVIEWER,
                outcome=Outcome.NOT_VIOLATING,
                policy=policy,
                note="demo: nothing in the content breaks the policy",
            )
        else:
            decision = cases.decide(
                uow,
                case_id,
                reviewer=REVIEWER,
                outcome=Outcome.VIOLATING,
                policy=policy,
                clause=clause,
                note="demo: matches the policy clause",
                user_message="Your post broke our rules; the statement of reasons says which.",
            )
        pending = decision.status == DecisionStatus.AWAITING_CONFIRMATION.value
    if pending:
        with unit_of_work(engine) as uow:
            cases.view(uow, case_id, reviewer=SECOND_REVIEWER, purpose="four-eyes confirmation")
            cases.confirm(uow, case_id, SECOND_REVIEWER, policy)


def _pick_for_appeal(engine: Engine) -> list[int]:
    """Two decisions with actions to appeal: the lightest category first, then the gravest."""
    with unit_of_work(engine) as uow:
        rows = uow.session.execute(
            select(Decision.id, Decision.clause)
            .join(Action, Action.decision_id == Decision.id)
            .where(Decision.outcome == Outcome.VIOLATING.value)
            .where(Decision.status == DecisionStatus.FINAL.value)
            .group_by(Decision.id, Decision.clause)
            .order_by(Decision.id)
        ).all()
    gravity = ["spam", "harassment", "hate", "threat_to_life", "terrorism"]
    ranked = sorted(rows, key=lambda r: gravity.index(r.clause) if r.clause in gravity else 9)
    return [int(r.id) for r in ranked[:1] + ranked[-1:]] if len(ranked) >= 2 else []


def _appeal(engine: Engine, decision_id: int, outcome: str, policy: Policy) -> None:
    with unit_of_work(engine) as uow:
        decision = uow.session.get(Decision, decision_id)
        assert decision is not None
        case = uow.session.get(Case, decision.case_id)
        assert case is not None
        item = uow.session.get(Item, case.item_id)
        assert item is not None
        account = uow.session.get(Account, item.account_id)
        assert account is not None
        appeal = appeals.file(
            uow,
            decision_id=decision_id,
            appellant=account.platform_account_id,
            appellant_kind="affected_user",
            reason="demo: the user says the post was quoted to condemn it",
            policy=policy,
        )
    with unit_of_work(engine) as uow:
        appeals.claim(uow, appeal.id, APPEALS_REVIEWER, policy)
        appeals.decide(
            uow,
            appeal.id,
            reviewer=APPEALS_REVIEWER,
            outcome=outcome,
            reasoning=(
                "On a second review the post reports on the matter rather than promoting it."
                if outcome == "reversed"
                else "On a second review the post does break the rule named in the statement."
            ),
            policy=policy,
        )


def work_the_queue(
    engine: Engine,
    policy: Policy,
    truth: Mapping[str, str],
    *,
    share: float = 0.5,
    cap: int = 40,
) -> ReviewShift:
    """Decide about ``share`` of each category's queue (at most ``cap``), then two appeals."""
    with unit_of_work(engine) as uow:
        entries = cases.queue(uow, include_escalated=False, limit=100_000)
    by_category: dict[str, list[int]] = {}
    false_reports: list[int] = []
    with unit_of_work(engine) as uow:
        for entry in entries:
            item = uow.session.get(Item, entry.case.item_id)
            assert item is not None
            if item.platform_item_id in truth:
                by_category.setdefault(entry.case.category, []).append(entry.case.id)
            else:
                false_reports.append(entry.case.id)  # notices about benign content
    for ids in by_category.values():
        take = min(cap, math.ceil(len(ids) * share), len(ids) - 1)  # leave each queue non-empty
        for case_id in ids[:take]:
            _decide_one(engine, case_id, truth, policy)
    for case_id in false_reports[:cap]:  # cleared as not violating; the notifiers are told
        _decide_one(engine, case_id, truth, policy)
    for decision_id, outcome in zip(_pick_for_appeal(engine), ("reversed", "upheld"), strict=False):
        _appeal(engine, decision_id, outcome, policy)
    return read_back(engine)


def _payloads(session: Session, type_: str) -> list[dict[str, Any]]:
    bodies = session.scalars(select(Event.body).where(Event.type == type_).order_by(Event.seq))
    return [dict(json.loads(body)["payload"]) for body in bodies]


def read_back(engine: Engine) -> ReviewShift:
    """The shift's figures, from the decisions, cases and events it left behind."""
    shift = ReviewShift()
    n = func.count()
    with Session(engine) as s:
        for outcome, count in s.execute(
            select(Decision.outcome, n)
            .where(Decision.status == DecisionStatus.FINAL.value)
            .group_by(Decision.outcome)
        ):
            shift.decided[str(outcome)] = int(count)
        shift.confirmed = len(_payloads(s, "case.confirmed"))
        shift.strikes = len(_payloads(s, "strike.issued"))
        shift.notices_answered = len(_payloads(s, "notice.outcome"))
        shift.escalations = dict(
            Counter(str(p["action"]) for p in _payloads(s, "account.escalated"))
        )
        shift.appeals = dict(Counter(str(p["outcome"]) for p in _payloads(s, "appeal.decided")))
        shift.queue_left = {
            str(category): int(count)
            for category, count in s.execute(
                select(Case.category, n)
                .where(Case.status.in_([CaseStatus.OPEN.value, CaseStatus.ESCALATED.value]))
                .group_by(Case.category)
                .order_by(Case.category)
            )
        }
    return shift
