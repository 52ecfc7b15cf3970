"""Cases: opening them from verdicts, viewing evidence, and (re-exported here, the public
face of this domain) claims, queues, deadlines and decisions.

``Case.status`` is a projection: every change goes through ``core.transition``,
which applies the reducer to the new event and records that event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from vigil.cases.claims import assign, claim, claim_next, release
from vigil.cases.consequences import (
    ESCALATION_RULE,
    FollowThrough,
    follow_through,
    is_escalation,
)
from vigil.cases.core import CaseError, get_case, held_by, transition
from vigil.cases.decisions import (
    confirm,
    decide,
    enforce,
    needs_four_eyes,
    pending_decision,
    refuse_confirmation,
)
from vigil.cases.models import PRIORITY_DEFAULT, PRIORITY_TRUSTED_FLAGGER, Case, CaseStatus
from vigil.cases.queue import QueueEntry, QueueStats, queue, queue_stats, sweep_deadlines
from vigil.items.models import Account, Item, Notice
from vigil.policy.models import Verdict
from vigil.policy.schema import Policy, Severity
from vigil.signals.models import Signal
from vigil.unit_of_work import UnitOfWork

__all__ = [
    "CaseError",
    "CaseView",
    "FollowThrough",
    "QueueEntry",
    "QueueStats",
    "assign",
    "claim",
    "claim_next",
    "confirm",
    "decide",
    "enforce",
    "follow_through",
    "held_by",
    "is_escalation",
    "needs_four_eyes",
    "open_or_attach",
    "pending_decision",
    "queue",
    "queue_stats",
    "refuse_confirmation",
    "release",
    "reopen_on_appeal",
    "sweep_deadlines",
    "view",
]


def _trusted_flagger_noticed(uow: UnitOfWork, item_id: int) -> bool:
    return (
        uow.session.scalar(
            select(Notice.id)
            .where(Notice.item_id == item_id, Notice.reporter_type == "trusted_flagger")
            .limit(1)
        )
        is not None
    )


def _prioritise(uow: UnitOfWork, case: Case, policy: Policy) -> None:
    """A trusted flagger's notice puts the case first and due within the policy's limit (Art. 22)."""
    if not _trusted_flagger_noticed(uow, case.item_id):
        return
    case.priority = PRIORITY_TRUSTED_FLAGGER
    due = uow.now() + policy.notices.trusted_flagger_delta
    if case.deadline_at is None or due < case.deadline_at:
        case.deadline_at = due


def open_or_attach(
    uow: UnitOfWork,
    verdict: Verdict,
    policy: Policy,
    *,
    deadline_at: datetime | None = None,
    reason: dict[str, Any] | None = None,
) -> tuple[Case, bool]:
    """Open a case for the verdict's item, or attach the verdict to its open case.

    ``deadline_at`` replaces the verdict's deadline for a new case (a case reopened
    on appeal is due from the appeal, not from the old verdict); ``reason`` is
    added to the ``case.opened`` event.
    """
    existing = uow.session.scalar(
        select(Case).where(Case.item_id == verdict.item_id, Case.status != CaseStatus.CLOSED.value)
    )
    if existing is not None:
        if Severity(verdict.severity).rank > Severity(existing.severity).rank:
            existing.severity = verdict.severity
            existing.category = verdict.category
            existing.proposed_action = verdict.action
        if verdict.deadline_at and (
            existing.deadline_at is None or verdict.deadline_at < existing.deadline_at
        ):
            existing.deadline_at = verdict.deadline_at
        _prioritise(uow, existing, policy)
        uow.session.flush()
        uow.log.record(
            "case.verdict_attached",
            f"case:{existing.id}",
            {
                "verdict_id": verdict.id,
                "severity": existing.severity,
                "deadline_at": existing.deadline_at,
                "priority": existing.priority,
            },
        )
        return existing, False
    case = Case(
        item_id=verdict.item_id,
        verdict_id=verdict.id,
        category=verdict.category,
        severity=verdict.severity,
        proposed_action=verdict.action,
        status=CaseStatus.OPEN.value,
        opened_at=uow.now(),
        deadline_at=deadline_at or verdict.deadline_at,
        priority=PRIORITY_DEFAULT,
    )
    _prioritise(uow, case, policy)
    uow.session.add(case)
    uow.session.flush()
    payload = {
        "item_id": case.item_id,
        "verdict_id": verdict.id,
        "category": case.category,
        "severity": case.severity,
        "deadline_at": case.deadline_at,
        "priority": case.priority,
        **(reason or {}),
    }
    uow.log.record("case.opened", f"case:{case.id}", payload, actor="system")
    return case, True


def reopen_on_appeal(uow: UnitOfWork, *, item_id: int, appeal_id: int, policy: Policy) -> Case:
    """A notifier's appeal against "not violating" succeeded: the item is reviewed afresh.

    The new case rests on the item's latest verdict and is due within the appeal deadline.
    """
    verdict = uow.session.scalar(
        select(Verdict)
        .where(Verdict.item_id == item_id, Verdict.rule_id != ESCALATION_RULE)
        .order_by(Verdict.id.desc())
        .limit(1)
    )
    if verdict is None:
        raise CaseError(f"item #{item_id} has no verdict to review again")
    case, _ = open_or_attach(
        uow,
        verdict,
        policy,
        deadline_at=uow.now() + policy.appeals.deadline_delta,
        reason={"appeal_id": appeal_id},
    )
    return case


@dataclass(frozen=True)
class CaseView:
    case: Case
    item: Item
    account: Account
    signals: Sequence[Signal]
    notices: Sequence[Notice]
    verdict: Verdict


def view(uow: UnitOfWork, case_id: int, *, reviewer: str, purpose: str = "review") -> CaseView:
    """Everything a reviewer needs; reading the evidence is itself an event."""
    case = get_case(uow, case_id)
    item = uow.session.get(Item, case.item_id)
    verdict = uow.session.get(Verdict, case.verdict_id)
    assert item is not None
    assert verdict is not None
    account = uow.session.get(Account, item.account_id)
    assert account is not None
    signals = list(
        uow.session.scalars(select(Signal).where(Signal.item_id == item.id).order_by(Signal.id))
    )
    notices = list(
        uow.session.scalars(select(Notice).where(Notice.item_id == item.id).order_by(Notice.id))
    )
    transition(
        uow, case, "evidence.viewed", {"item_id": item.id, "purpose": purpose}, actor=reviewer
    )
    return CaseView(case, item, account, signals, notices, verdict)
