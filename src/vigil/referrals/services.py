"""Proposing, approving and recording the submission of referrals to authorities.

A referral exists only after a final, violating decision by a person on a case
whose category the policy makes referable, and becomes sendable only when a
legal officer who neither decided nor confirmed that decision approves it. The
approval preserves the account's data (a legal hold for the route's period) and
fixes the package: its SHA-256 is stored, so what is sent can be shown to be
what was approved. Every step is an event on ``referral:N``; ``Referral.status``
is kept equal to ``reducer.referral_status``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from vigil.cases.models import Case, Decision, DecisionStatus, Outcome
from vigil.holds import services as holds
from vigil.items.models import Item
from vigil.policy.models import Verdict
from vigil.policy.schema import Policy
from vigil.referrals import reducer
from vigil.referrals.models import Referral, ReferralStatus
from vigil.signals.models import Signal
from vigil.staff.models import Role
from vigil.staff.services import StaffError, normal_name, require_role
from vigil.unit_of_work import UnitOfWork

__all__ = [
    "ReferralError",
    "RouteFigures",
    "approve",
    "detected_at",
    "get",
    "list_referrals",
    "propose",
    "record_failed",
    "record_progress",
    "record_submitted",
    "referral_figures",
]


class ReferralError(ValueError):
    pass


def get(uow: UnitOfWork, referral_id: int) -> Referral:
    referral = uow.session.get(Referral, referral_id)
    if referral is None:
        raise ReferralError(f"no referral #{referral_id}")
    return referral


def list_referrals(uow: UnitOfWork, *, status: str | None = None) -> list[Referral]:
    query = select(Referral).order_by(Referral.id)
    if status is not None:
        query = query.where(Referral.status == status)
    return list(uow.session.scalars(query))


def _transition(
    uow: UnitOfWork,
    referral: Referral,
    event_type: str,
    payload: dict[str, Any],
    actor: str,
    *,
    new_row: bool = False,
) -> None:
    """Apply one event through the reducer (compare-and-set on the status) and record it."""
    current = None if new_row else ReferralStatus(referral.status)
    try:
        new = reducer.apply(current, event_type, payload)
    except reducer.InvalidTransitionError as exc:
        raise ReferralError(f"referral #{referral.id}: {exc}") from exc
    assert new is not None
    if current is not None and new is not current:
        changed = uow.session.execute(
            update(Referral)
            .where(Referral.id == referral.id, Referral.status == current.value)
            .values(status=new.value)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise ReferralError(f"referral #{referral.id} changed meanwhile; look at it again")
        set_committed_value(referral, "status", new.value)
    uow.log.record(event_type, f"referral:{referral.id}", payload, actor=actor)


def detected_at(session: Session, item_id: int) -> datetime | None:
    """When Vigil first noticed the item: its first signal or verdict."""
    times = [
        session.scalar(select(func.min(Signal.created_at)).where(Signal.item_id == item_id)),
        session.scalar(select(func.min(Verdict.created_at)).where(Verdict.item_id == item_id)),
    ]
    known = [t for t in times if t is not None]
    return min(known) if known else None


def _person(name: str, what: str) -> str:
    name = name.strip()
    if not name or normal_name(name) == "system":
        raise ReferralError(f"{what}: a person's name is required")
    return name


def propose(uow: UnitOfWork, decision_id: int, proposer: str, policy: Policy) -> Referral:
    """Propose referring a decided violation to the authority its category names.

    Refused unless the decision is final, by a person, violating, and its
    category has a ``referral`` in the policy; one referral per decision.
    """
    proposer = _person(proposer, "proposer")
    decision = uow.session.get(Decision, decision_id)
    if decision is None:
        raise ReferralError(f"no decision #{decision_id}")
    if decision.outcome != Outcome.VIOLATING.value:
        raise ReferralError(
            f"decision #{decision_id} found the content {decision.outcome}; only a violating "
            "decision can be referred"
        )
    if decision.status != DecisionStatus.FINAL.value:
        raise ReferralError(
            f"decision #{decision_id} is {decision.status}, not final; a referral waits for the "
            "second reviewer's confirmation"
        )
    if normal_name(decision.reviewer) == "system":
        raise ReferralError(f"decision #{decision_id} was not taken by a person")
    case = uow.session.get(Case, decision.case_id)
    assert case is not None
    category = decision.clause or case.category
    config = policy.categories[category].referral if category in policy.categories else None
    if config is None:
        raise ReferralError(
            f"category {category!r} is not referable under policy {policy.policy} "
            f"{policy.version} (it has no referral:)"
        )
    existing = uow.session.scalar(select(Referral.id).where(Referral.decision_id == decision_id))
    if existing is not None:
        raise ReferralError(f"decision #{decision_id} already has referral #{existing}")
    item = uow.session.get(Item, case.item_id)
    assert item is not None
    now = uow.now()
    referral = Referral(
        decision_id=decision.id,
        case_id=case.id,
        item_id=item.id,
        account_id=item.account_id,
        category=category,
        route=config.route.value,
        priority=config.priority.value,
        destination=list(config.destination),
        legal_basis=config.legal_basis,
        hold_seconds=int(config.hold_delta.total_seconds()),
        status=ReferralStatus.PROPOSED.value,
        detected_at=detected_at(uow.session, item.id) or decision.decided_at,
        proposed_by=proposer,
        proposed_at=now,
        deadline_at=now + config.deadline_delta,
        progress={},
        attempts=0,
    )
    uow.session.add(referral)
    uow.session.flush()
    _transition(
        uow,
        referral,
        "referral.proposed",
        {
            "referral_id": referral.id,
            "decision_id": decision.id,
            "case_id": case.id,
            "item_id": item.id,
            "account_id": item.account_id,
            "category": category,
            "route": referral.route,
            "priority": referral.priority,
            "deadline_at": referral.deadline_at,
        },
        proposer,
        new_row=True,
    )
    return referral


def approve(uow: UnitOfWork, referral_id: int, approver: str, policy: Policy) -> Referral:
    """A legal officer, not the decision's reviewers, approves: the data is held, the package fixed.

    ``policy`` is the active policy: a category it no longer refers is refused;
    otherwise the referral keeps the route, hold and deadline copied when proposed.
    """
    from vigil.referrals.package import build_package

    approver = _person(approver, "approver")
    referral = get(uow, referral_id)
    if referral.status != ReferralStatus.PROPOSED.value:
        raise ReferralError(f"referral #{referral_id} is {referral.status}, not proposed")
    category = policy.categories.get(referral.category)
    if category is None or category.referral is None:
        raise ReferralError(
            f"referral #{referral_id}: category {referral.category!r} is no longer referable "
            f"under policy {policy.policy} {policy.version}"
        )
    try:
        require_role(uow, approver, Role.LEGAL_OFFICER, to="approve referrals")
    except StaffError as exc:
        raise ReferralError(str(exc)) from exc
    decision = uow.session.get(Decision, referral.decision_id)
    assert decision is not None
    who = normal_name(approver)
    if who == normal_name(decision.reviewer):
        raise ReferralError(
            f"referral #{referral_id}: {approver} took decision #{decision.id}; a different "
            "legal officer approves its referral"
        )
    if decision.confirmed_by and who == normal_name(decision.confirmed_by):
        raise ReferralError(
            f"referral #{referral_id}: {approver} confirmed decision #{decision.id}; a different "
            "legal officer approves its referral"
        )
    if who == normal_name(referral.proposed_by):
        raise ReferralError(
            f"referral #{referral_id}: {approver} proposed it; a second person approves it"
        )
    hold = holds.place(
        uow,
        account_id=referral.account_id,
        source=f"referral:{referral.id}",
        legal_basis=referral.legal_basis,
        duration=timedelta(seconds=referral.hold_seconds),
        by=approver,
    )
    referral.approved_by = approver
    referral.approved_at = uow.now()
    referral.hold_id = hold.id
    uow.session.flush()
    package = build_package(uow.session, referral)
    referral.package_sha256 = package.sha256
    referral.submission_key = hashlib.sha256(
        f"vigil-referral:{referral.id}:{package.sha256}".encode()
    ).hexdigest()
    uow.session.flush()
    _transition(
        uow,
        referral,
        "referral.approved",
        {
            "referral_id": referral.id,
            "route": referral.route,
            "destination": referral.destination,
            "priority": referral.priority,
            "legal_basis": referral.legal_basis,
            "deadline_at": referral.deadline_at,
            "hold_id": hold.id,
            "hold_expires_at": hold.expires_at,
            "package_sha256": package.sha256,
            "files": len(package.files),
        },
        approver,
    )
    return referral


def record_progress(uow: UnitOfWork, referral_id: int, progress: dict[str, Any]) -> None:
    """Keep how far a multi-step submission got, so a later run resumes instead of repeating."""
    referral = get(uow, referral_id)
    referral.progress = dict(progress)
    uow.session.flush()


def record_submitted(
    uow: UnitOfWork, referral_id: int, *, external_id: str | None, by: str = "system"
) -> Referral:
    """The authority holds the referral (``referral.submitted``)."""
    referral = get(uow, referral_id)
    referral.external_id = external_id
    referral.submitted_at = uow.now()
    referral.attempts += 1
    referral.last_error = None
    uow.session.flush()
    _transition(
        uow,
        referral,
        "referral.submitted",
        {
            "referral_id": referral.id,
            "route": referral.route,
            "external_id": external_id,
            "package_sha256": referral.package_sha256,
            "late": referral.submitted_at > referral.deadline_at,
        },
        by,
    )
    return referral


def record_failed(
    uow: UnitOfWork, referral_id: int, *, reason: str, by: str = "system"
) -> Referral:
    """An attempt did not get through (``referral.failed``); ``reason`` is a short code."""
    referral = get(uow, referral_id)
    referral.attempts += 1
    referral.last_error = reason[:200]
    uow.session.flush()
    _transition(
        uow,
        referral,
        "referral.failed",
        {"referral_id": referral.id, "route": referral.route, "reason": reason[:200]},
        by,
    )
    return referral


@dataclass(frozen=True)
class RouteFigures:
    """Referrals proposed in a period for one route and priority."""

    route: str
    priority: str
    proposed: int
    approved: int
    submitted: int
    late: int  # submitted after the deadline, or still unsent past it
    median_detection_to_submission_s: float | None


def referral_figures(session: Session, since: datetime, until: datetime) -> list[RouteFigures]:
    """Referrals proposed in ``[since, until)`` by route and priority, with the median time from
    detection (the item's first signal or verdict) to submission."""
    rows = list(
        session.scalars(
            select(Referral)
            .where(Referral.proposed_at >= since, Referral.proposed_at < until)
            .order_by(Referral.route, Referral.priority, Referral.id)
        )
    )
    groups: dict[tuple[str, str], list[Referral]] = {}
    for r in rows:
        groups.setdefault((r.route, r.priority), []).append(r)
    out = []
    for (route, priority), refs in sorted(groups.items()):
        sent = [r for r in refs if r.submitted_at is not None]
        waits = [(r.submitted_at - r.detected_at).total_seconds() for r in sent if r.submitted_at]
        late = sum(1 for r in refs if (r.submitted_at or until) > r.deadline_at)
        out.append(
            RouteFigures(
                route=route,
                priority=priority,
                proposed=len(refs),
                approved=sum(1 for r in refs if r.approved_at is not None),
                submitted=len(sent),
                late=late,
                median_detection_to_submission_s=median(waits) if waits else None,
            )
        )
    return out


def on_decision_reversed(
    uow: UnitOfWork, decision_id: int, *, appeal_id: int, actor: str
) -> list[Referral]:
    """The decision a referral rests on was reversed on appeal.

    A referral not yet sent is withdrawn (``referral.withdrawn``) and never sent;
    one already with the authority is flagged (``referral.decision_reversed``) so
    the legal officer can tell the authority. Its legal hold stays until a legal
    officer releases it: the data may still be needed.
    """
    found = list(
        uow.session.scalars(
            select(Referral).where(Referral.decision_id == decision_id).order_by(Referral.id)
        )
    )
    for referral in found:
        if referral.status == ReferralStatus.SUBMITTED.value:
            uow.log.record(
                "referral.decision_reversed",
                f"referral:{referral.id}",
                {"referral_id": referral.id, "appeal_id": appeal_id, "route": referral.route},
                actor=actor,
            )
        else:
            _transition(
                uow,
                referral,
                "referral.withdrawn",
                {"referral_id": referral.id, "appeal_id": appeal_id},
                actor,
            )
    return found
