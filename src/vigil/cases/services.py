"""Opening cases from verdicts, the review queue, viewing evidence and deciding.

``Case.status`` is a projection: every change goes through :func:`_transition`,
which applies the reducer to the new event and records that event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import select

from vigil.actions.services import apply_action
from vigil.cases import reducer
from vigil.cases.models import Case, CaseStatus, Decision, Outcome
from vigil.items.models import Account, Item, Notice
from vigil.policy.models import Verdict
from vigil.policy.schema import ActionKind, Policy, Severity
from vigil.signals.models import Signal
from vigil.unit_of_work import UnitOfWork


class CaseError(ValueError):
    pass


def _transition(
    uow: UnitOfWork, case: Case, event_type: str, payload: dict[str, Any], actor: str
) -> None:
    current = CaseStatus(case.status) if event_type != "case.opened" else None
    new = reducer.apply(current, event_type, payload)
    assert new is not None
    case.status = new.value
    if new is CaseStatus.CLOSED:
        case.closed_at = uow.now()
    uow.session.flush()
    uow.log.record(event_type, f"case:{case.id}", payload, actor=actor)


def open_or_attach(uow: UnitOfWork, verdict: Verdict) -> tuple[Case, bool]:
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
        uow.session.flush()
        uow.log.record(
            "case.verdict_attached",
            f"case:{existing.id}",
            {
                "verdict_id": verdict.id,
                "severity": existing.severity,
                "deadline_at": existing.deadline_at,
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
    )
    uow.session.add(case)
    uow.session.flush()
    _transition(
        uow,
        case,
        "case.opened",
        {
            "item_id": case.item_id,
            "verdict_id": verdict.id,
            "category": case.category,
            "severity": case.severity,
            "deadline_at": case.deadline_at,
        },
        "system",
    )
    return case, True


_SEVERITY_ORDER = sql_case(
    {"critical": 0, "high": 1, "medium": 2, "low": 3}, value=Case.severity, else_=4
)


def queue(
    uow: UnitOfWork, *, category: str | None = None, include_escalated: bool = True, limit: int = 50
) -> list[Case]:
    """Cases awaiting a decision, soonest deadline first, then most severe."""
    statuses = [CaseStatus.OPEN.value] + ([CaseStatus.ESCALATED.value] if include_escalated else [])
    stmt = select(Case).where(Case.status.in_(statuses))
    if category:
        stmt = stmt.where(Case.category == category)
    stmt = stmt.order_by(
        Case.deadline_at.is_(None), Case.deadline_at, _SEVERITY_ORDER, Case.id
    ).limit(limit)
    return list(uow.session.scalars(stmt))


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
    case = _get(uow, case_id)
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
    uow.log.record(
        "evidence.viewed",
        f"case:{case.id}",
        {"item_id": item.id, "purpose": purpose},
        actor=reviewer,
    )
    return CaseView(case, item, account, signals, notices, verdict)


def _get(uow: UnitOfWork, case_id: int) -> Case:
    case = uow.session.get(Case, case_id)
    if case is None:
        raise CaseError(f"no case #{case_id}")
    return case


def _decision_source(uow: UnitOfWork, item_id: int) -> str:
    """The DSA source of a decision: a trusted flagger's notice, else a user's, else own initiative."""
    reporters = set(
        uow.session.scalars(select(Notice.reporter_type).where(Notice.item_id == item_id))
    )
    if "trusted_flagger" in reporters:
        return "trusted_flagger"
    return "article_16" if reporters else "voluntary"


def decide(
    uow: UnitOfWork,
    case_id: int,
    *,
    reviewer: str,
    outcome: Outcome,
    policy: Policy,
    actions: Sequence[ActionKind] | None = None,
    clause: str | None = None,
    note: str | None = None,
) -> Decision:
    """Record a person's decision; a violating decision applies its actions."""
    if not reviewer.strip():
        raise CaseError("a decision needs the reviewer's name")
    case = _get(uow, case_id)
    if case.status == CaseStatus.CLOSED.value:
        raise CaseError(f"case #{case_id} is already closed")
    chosen: list[ActionKind] = []
    if outcome is Outcome.VIOLATING:
        chosen = list(actions) if actions else [ActionKind(case.proposed_action)]
        clause = clause or case.category
        if clause not in policy.categories:
            raise CaseError(
                f"clause {clause!r} is not a category of policy {policy.policy} {policy.version}"
            )
    elif actions:
        raise CaseError("only a violating decision takes actions")
    decision = Decision(
        case_id=case.id,
        reviewer=reviewer,
        outcome=outcome.value,
        clause=clause,
        actions=[a.value for a in chosen],
        note=note,
        decided_at=uow.now(),
    )
    uow.session.add(decision)
    uow.session.flush()
    _transition(
        uow,
        case,
        "case.decided",
        {
            "decision_id": decision.id,
            "outcome": outcome.value,
            "clause": clause,
            "actions": decision.actions,
        },
        reviewer,
    )
    item = uow.session.get(Item, case.item_id)
    assert item is not None
    source = _decision_source(uow, item.id)
    verdict = uow.session.get(Verdict, case.verdict_id)
    kinds = sorted(set(uow.session.scalars(select(Signal.kind).where(Signal.item_id == item.id))))
    for kind in chosen:
        apply_action(
            uow,
            kind=kind,
            item=item,
            policy=policy,
            category=clause or case.category,
            rule_id=verdict.rule_id if verdict else None,
            decision_id=decision.id,
            automated=False,
            automated_detection=source == "voluntary",
            source=source,
            actor=reviewer,
            signal_kinds=kinds,
        )
    return decision
