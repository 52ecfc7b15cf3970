"""Cases: opening them from verdicts, viewing evidence, and (re-exported here, the public
face of this domain) claims, queues, deadlines and decisions.

``Case.status`` is a projection: every change goes through ``core.transition``,
which applies the reducer to the new event and records that event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from vigil.cases.claims import assign, claim, claim_next, release
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
    "QueueEntry",
    "QueueStats",
    "assign",
    "claim",
    "claim_next",
    "confirm",
    "decide",
    "enforce",
    "held_by",
    "needs_four_eyes",
    "open_or_attach",
    "pending_decision",
    "queue",
    "queue_stats",
    "refuse_confirmation",
    "release",
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


def open_or_attach(uow: UnitOfWork, verdict: Verdict, policy: Policy) -> tuple[Case, bool]:
    """Open a case for the verdict's item, or attach the verdict to its open case."""
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
        deadline_at=verdict.deadline_at,
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
    }
    uow.log.record("case.opened", f"case:{case.id}", payload, actor="system")
    return case, True


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
