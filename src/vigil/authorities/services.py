"""Taking in requests from authorities and moving them through their safeguards.

Each step is an ``authority_request.*`` event in the same unit of work, and the
status column follows :mod:`vigil.authorities.reducer`. A request that fails an
intake safeguard is stored and refused at once with its reason code, so refusals
are counted. Producing data lives in :mod:`vigil.authorities.production`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from vigil.actions.services import apply_action
from vigil.audit.models import Event
from vigil.authorities import reducer
from vigil.authorities.models import (
    AuthorityProduction,
    AuthorityRequest,
    AuthorityTarget,
    RequestKind,
    RequestStatus,
    VerificationMethod,
)
from vigil.authorities.safeguards import (
    MANUAL_CODES,
    Refusal,
    Target,
    check_emergency_approval,
    check_intake,
    check_verified,
    tco_deadline,
)
from vigil.authorities.schemas import RequestIn
from vigil.holds import services as holds
from vigil.holds.models import LegalHold
from vigil.items.models import Account, Item
from vigil.policy.schema import ActionKind, Policy
from vigil.staff.models import Role
from vigil.staff.services import has_role, require_role
from vigil.unit_of_work import UnitOfWork

EVENT = reducer.EVENT_PREFIX


class AuthorityError(ValueError):
    """A step that cannot be taken on a request; the message says why."""


def subject(request_id: int) -> str:
    return f"authority_request:{request_id}"


def _step(
    uow: UnitOfWork, req: AuthorityRequest, step: str, payload: dict[str, Any], *, actor: str
) -> None:
    current = RequestStatus(req.status) if req.status else None
    try:
        req.status = reducer.apply(current, EVENT + step, payload).value
    except reducer.InvalidTransitionError as exc:
        raise AuthorityError(f"request #{req.id}: {exc}") from None
    uow.session.flush()
    uow.log.record(EVENT + step, subject(req.id), {"request_id": req.id, **payload}, actor=actor)


def get(session: Session, request_id: int) -> AuthorityRequest:
    req = session.get(AuthorityRequest, request_id)
    if req is None:
        raise AuthorityError(f"no request #{request_id}")
    return req


def targets_of(session: Session, request_id: int) -> list[AuthorityTarget]:
    return list(
        session.scalars(
            select(AuthorityTarget)
            .where(AuthorityTarget.request_id == request_id)
            .order_by(AuthorityTarget.id)
        )
    )


def named_account_ids(session: Session, request_id: int) -> list[int]:
    """Accounts the request's targets matched when it was received: the only ones it may reach."""
    return sorted(
        {t.account_id for t in targets_of(session, request_id) if t.account_id is not None}
    )


def list_requests(session: Session, *, status: str | None = None) -> list[AuthorityRequest]:
    query = select(AuthorityRequest).order_by(AuthorityRequest.id)
    if status:
        query = query.where(AuthorityRequest.status == status)
    return list(session.scalars(query))


def _match(
    session: Session, kind: str, value: str, received_at: datetime
) -> tuple[int | None, int | None]:
    """The account (and item) one target names, by exact identifier, among data held at receipt.

    Exact equality only: no patterns, no case folding, so a target can never widen
    to similar names. Vigil holds no e-mail addresses or phone numbers.
    """
    value = value.strip()
    if kind == "account_id":
        acc = session.scalar(select(Account).where(Account.platform_account_id == value))
        if acc is not None and acc.first_seen_at <= received_at:
            return acc.id, None
    elif kind == "username":
        accs = list(session.scalars(select(Account).where(Account.handle == value.lstrip("@"))))
        if len(accs) == 1 and accs[0].first_seen_at <= received_at:
            return accs[0].id, None
    elif kind in ("content_id", "url"):
        item = session.scalar(select(Item).where(Item.platform_item_id == value))
        if item is not None and item.ingested_at <= received_at:
            return item.account_id, item.id
    return None, None


def intake(
    uow: UnitOfWork, data: RequestIn, *, policy: Policy, by: str, acknowledge: bool = True
) -> AuthorityRequest:
    """Register a request (``received``), acknowledge it, and refuse it at once if it is too broad."""
    return intake_checked(uow, data, policy=policy, by=by, acknowledge=acknowledge)[0]


def intake_checked(
    uow: UnitOfWork, data: RequestIn, *, policy: Policy, by: str, acknowledge: bool = True
) -> tuple[AuthorityRequest, list[Refusal]]:
    """:func:`intake`, also returning the refusals with their messages (for the API's answer)."""
    now = uow.now()
    received_at = min(data.received_at or now, now)
    comply_by = data.deadlines.comply_by
    if data.kind is RequestKind.TCO_REMOVAL_ORDER:
        hour = tco_deadline(received_at)
        comply_by = min(comply_by, hour) if comply_by else hour
    nd = data.nondisclosure
    req = AuthorityRequest(
        reference=data.reference.strip(),
        kind=data.kind.value,
        status="",
        channel=data.channel,
        authority_name=data.authority.name.strip(),
        authority_country=data.authority.country,
        agency_type=data.authority.agency_type.value,
        instrument=(data.instrument or "").strip() or None,
        data_categories=sorted(c.value for c in data.data_categories),
        range_from=data.range_from,
        range_to=data.range_to,
        nondisclosure_basis=nd.basis.value if nd else None,
        nondisclosure_expires_at=nd.expires_at if nd else None,
        acknowledge_by=data.deadlines.acknowledge_by,
        comply_by=comply_by,
        preserve_days=data.preserve_days,
        received_by=by,
        received_at=received_at,
    )
    uow.session.add(req)
    uow.session.flush()
    targets = [Target(t.identifier_type.strip().lower(), t.value) for t in data.targets]
    refusals = check_intake(
        data.kind,
        req.instrument,
        targets,
        req.range_from,
        req.range_to,
        req.data_categories,
        max_targets=policy.authorities.max_targets,
        max_span=policy.authorities.max_span_delta,
    )
    for t in targets:
        account_id, item_id = (
            (None, None)
            if refusals
            else _match(uow.session, t.identifier_type, t.value, received_at)
        )
        uow.session.add(
            AuthorityTarget(
                request_id=req.id,
                identifier_type=t.identifier_type[:24],
                value=t.value.strip()[:500],
                account_id=account_id,
                item_id=item_id,
            )
        )
    uow.session.flush()
    matched = named_account_ids(uow.session, req.id)
    _step(
        uow,
        req,
        "received",
        {
            "kind": req.kind,
            "instrument": req.instrument,
            "authority": req.authority_name,
            "country": req.authority_country,
            "agency_type": req.agency_type,
            "channel": req.channel,
            "targets": len(targets),
            "matched_account_ids": matched,
            "data_categories": req.data_categories,
            "nondisclosure": req.nondisclosure_basis,
            "received_at": received_at,
            "comply_by": comply_by,
        },
        actor=by,
    )
    if acknowledge or refusals:
        acknowledge_receipt(uow, req.id, by=by)
    if refusals:
        _refuse(uow, req, refusals, by=by)
    return req, refusals


def acknowledge_receipt(uow: UnitOfWork, request_id: int, *, by: str) -> AuthorityRequest:
    """Tell the authority the request arrived (``acknowledged``); DSA figures use the time taken."""
    req = get(uow.session, request_id)
    req.acknowledged_at = uow.now()
    _step(uow, req, "acknowledged", {"acknowledged_at": req.acknowledged_at}, actor=by)
    return req


def _refuse(
    uow: UnitOfWork, req: AuthorityRequest, refusals: Sequence[Refusal], *, by: str
) -> None:
    req.refused_at = uow.now()
    req.refusal_code = refusals[0].code
    _step(
        uow,
        req,
        "refused",
        {"reason_code": req.refusal_code, "reason_codes": [r.code for r in refusals]},
        actor=by,
    )


def refusals_of(uow: UnitOfWork, request_id: int) -> list[str]:
    """Every reason code a request was refused with (from its events)."""
    rows = uow.session.scalars(
        select(Event.body).where(
            Event.subject == subject(request_id), Event.type == EVENT + "refused"
        )
    )
    codes: list[str] = []
    for body in rows:
        codes.extend(json.loads(body)["payload"]["reason_codes"])
    return codes


def refuse(uow: UnitOfWork, request_id: int, *, reason_code: str, by: str) -> AuthorityRequest:
    """A legal officer refuses a request with a reason code (``refused``)."""
    require_role(uow, by, Role.LEGAL_OFFICER, to="refuse a request from an authority")
    if reason_code not in MANUAL_CODES:
        raise AuthorityError(
            f"reason_code: {reason_code!r} is not one of {', '.join(MANUAL_CODES)}"
        )
    req = get(uow.session, request_id)
    _refuse(uow, req, [Refusal(reason_code, "refused by a legal officer")], by=by)
    return req


def verify(
    uow: UnitOfWork,
    request_id: int,
    *,
    method: VerificationMethod | str,
    by: str,
    evidence_ref: str,
    genuine: bool = True,
) -> AuthorityRequest:
    """Record that the requester was checked through an independent channel (``verified``).

    A check that fails refuses the request (``verification_failed``): a hijacked
    police mailbox gets nothing.
    """
    require_role(uow, by, Role.LEGAL_OFFICER, to="verify a request from an authority")
    try:
        method = VerificationMethod(method)
    except ValueError:
        raise AuthorityError(
            f"method: {method!r} is not one of {', '.join(m.value for m in VerificationMethod)}"
        ) from None
    if not evidence_ref.strip():
        raise AuthorityError("evidence_ref: say where the proof of the check is kept")
    req = get(uow.session, request_id)
    req.verification_method = method.value
    req.verification_evidence = evidence_ref.strip()[:500]
    req.verified_by = by
    if not genuine:
        _refuse(
            uow,
            req,
            [Refusal("verification_failed", "the independent check did not confirm the requester")],
            by=by,
        )
        return req
    req.verified_at = uow.now()
    _step(
        uow,
        req,
        "verified",
        {"method": method.value, "evidence_ref": req.verification_evidence},
        actor=by,
    )
    return req


def approve(
    uow: UnitOfWork, request_id: int, *, by: str, good_faith_reason: str | None = None
) -> AuthorityRequest:
    """A legal officer approves a verified request (``approved``).

    Emergency disclosure needs a recorded good-faith reason and a second legal
    officer, different from the first, before it counts as approved.
    """
    require_role(uow, by, Role.LEGAL_OFFICER, to="approve a request from an authority")
    req = get(uow.session, request_id)
    problems = check_verified(req.verified_at)
    if problems:
        raise AuthorityError(f"request #{req.id}: {problems[0]}")
    complete = True
    if req.kind == RequestKind.EMERGENCY_DISCLOSURE.value:
        if good_faith_reason and good_faith_reason.strip():
            req.good_faith_reason = good_faith_reason.strip()
        problems = check_emergency_approval(req.good_faith_reason, req.first_approver, by)
        if problems:
            raise AuthorityError(f"request #{req.id}: {problems[0]}")
        if req.first_approver is None:
            req.first_approver = by
            complete = False
    if complete:
        req.approved_by = by
        req.approved_at = uow.now()
    _step(
        uow,
        req,
        "approved",
        {"approver": by, "complete": complete, "good_faith_recorded": bool(req.good_faith_reason)},
        actor=by,
    )
    return req


_ACTORS = (Role.MODERATOR, Role.SENIOR_MODERATOR, Role.LEGAL_OFFICER)


def give_effect(
    uow: UnitOfWork, request_id: int, *, by: str, policy: Policy | None = None
) -> AuthorityRequest:
    """Carry out an order to act (DSA Art. 9, TCO removal) and record when.

    A TCO removal order removes every piece of content it names (category
    ``terrorism``, no statement of reasons: the order gives the reasons); the
    platform learns of each removal through the feed. Other orders to act are
    recorded as carried out by the person who did what they ask.
    """
    if not any(has_role(uow, by, r) for r in _ACTORS):
        raise AuthorityError(
            f"{by!r} needs one of the roles {', '.join(r.value for r in _ACTORS)} "
            "to give effect to an order"
        )
    req = get(uow.session, request_id)
    if not RequestKind(req.kind).acts:
        raise AuthorityError(f"request #{req.id}: a {req.kind} is not an order to act")
    removed: list[int] = []
    if RequestKind(req.kind) is RequestKind.TCO_REMOVAL_ORDER:
        if policy is None or TCO_CATEGORY not in policy.categories:
            raise AuthorityError(
                f"request #{req.id}: removing terrorist content needs a policy with a "
                f"'{TCO_CATEGORY}' category"
            )
        removed = _remove_named_content(uow, req, by=by, policy=policy)
    now = uow.now()
    req.effect_given_at = now
    late = req.comply_by is not None and now > req.comply_by
    _step(
        uow,
        req,
        "effect_given",
        {
            "effect_given_at": now,
            "comply_by": req.comply_by,
            "late": late,
            "removed_item_ids": removed,
        },
        actor=by,
    )
    return req


TCO_CATEGORY = "terrorism"


def _remove_named_content(
    uow: UnitOfWork, req: AuthorityRequest, *, by: str, policy: Policy
) -> list[int]:
    """Remove the items a removal order names (only those: never the account's other content)."""
    removed: list[int] = []
    for target in targets_of(uow.session, req.id):
        if target.item_id is None:
            continue
        item = uow.session.get(Item, target.item_id)
        assert item is not None
        action = apply_action(
            uow,
            kind=ActionKind.REMOVE_CONTENT,
            item=item,
            policy=policy,
            category=TCO_CATEGORY,
            rule_id=None,
            automated=False,
            automated_detection=False,
            actor=by,
            issue_statement=False,
        )
        if action is not None:
            removed.append(item.id)
    return removed


def _hold_scopes(session: Session, request_id: int) -> list[tuple[int, int | None]]:
    """What to hold: whole accounts named as such, and single items named on their own."""
    whole = {t.account_id for t in targets_of(session, request_id) if t.item_id is None}
    scopes: set[tuple[int, int | None]] = set()
    for t in targets_of(session, request_id):
        if t.account_id is None:
            continue
        if t.account_id in whole:
            scopes.add((t.account_id, None))
        else:
            scopes.add((t.account_id, t.item_id))
    return sorted(scopes, key=lambda s: (s[0], s[1] or 0))


def overdue(session: Session, now: datetime) -> list[AuthorityRequest]:
    """Open requests past their deadline to comply (or to acknowledge, if not yet acknowledged)."""
    open_ = [s.value for s in reducer.OPEN]
    rows = session.scalars(
        select(AuthorityRequest)
        .where(AuthorityRequest.status.in_(open_))
        .order_by(AuthorityRequest.comply_by, AuthorityRequest.id)
    )
    return [
        r
        for r in rows
        if (r.comply_by is not None and r.comply_by < now)
        or (r.acknowledged_at is None and r.acknowledge_by is not None and r.acknowledge_by < now)
    ]


def preserve(uow: UnitOfWork, request_id: int, *, by: str, policy: Policy) -> list[LegalHold]:
    """Place a legal hold on every account the preservation request names (``effect_given``)."""
    require_role(uow, by, Role.LEGAL_OFFICER, to="preserve data for an authority")
    req = get(uow.session, request_id)
    if req.kind != RequestKind.PRESERVATION.value:
        raise AuthorityError(f"request #{req.id}: a {req.kind} is not a preservation request")
    duration = (
        timedelta(days=req.preserve_days)
        if req.preserve_days
        else policy.authorities.preservation_delta
    )
    placed = [
        holds.place(
            uow,
            account_id=account_id,
            item_id=item_id,
            source=f"request:{req.id}",
            legal_basis=req.instrument or "preservation request",
            duration=duration,
            by=by,
        )
        for account_id, item_id in _hold_scopes(uow.session, req.id)
    ]
    req.effect_given_at = uow.now()
    _step(
        uow,
        req,
        "effect_given",
        {
            "effect_given_at": req.effect_given_at,
            "hold_ids": [h.id for h in placed],
            "comply_by": req.comply_by,
            "late": req.comply_by is not None and req.effect_given_at > req.comply_by,
        },
        actor=by,
    )
    return placed


def extend_preservation(
    uow: UnitOfWork, request_id: int, *, until: datetime, by: str
) -> list[LegalHold]:
    """The authority asks to keep the data longer: extend every hold the request placed."""
    require_role(uow, by, Role.LEGAL_OFFICER, to="extend a preservation")
    req = get(uow.session, request_id)
    mine = [
        h
        for h in uow.session.scalars(
            select(LegalHold).where(LegalHold.source == f"request:{req.id}").order_by(LegalHold.id)
        )
        if h.released_at is None and h.lapsed_at is None
    ]
    if not mine:
        raise AuthorityError(f"request #{req.id} holds nothing that could be extended")
    try:
        extended = [
            holds.extend(uow, h.id, until=until, by=by, reason=f"authority request #{req.id}")
            for h in mine
        ]
    except holds.HoldError as exc:
        raise AuthorityError(str(exc)) from None
    _step(
        uow,
        req,
        "preservation_extended",
        {"hold_ids": [h.id for h in extended], "until": until},
        actor=by,
    )
    return extended


def nondisclosure_applies(req: AuthorityRequest, now: datetime) -> bool:
    """Whether the user may not yet be told (a term with no end, or one still running)."""
    if req.nondisclosure_basis is None:
        return False
    return req.nondisclosure_expires_at is None or req.nondisclosure_expires_at > now


def change_nondisclosure(
    uow: UnitOfWork, request_id: int, *, expires_at: datetime | None, by: str
) -> AuthorityRequest:
    """The authority extends or lifts its non-disclosure term (``nondisclosure_changed``).

    ``expires_at`` None keeps it until further notice; a time in the past lifts it,
    and the next :func:`notify_due` tells the user.
    """
    require_role(uow, by, Role.LEGAL_OFFICER, to="change a non-disclosure term")
    req = get(uow.session, request_id)
    if req.nondisclosure_basis is None:
        raise AuthorityError(f"request #{req.id} carries no non-disclosure term")
    if req.user_notified_at is not None:
        raise AuthorityError(f"request #{req.id}: the user has already been told")
    before = req.nondisclosure_expires_at
    req.nondisclosure_expires_at = expires_at
    _step(
        uow,
        req,
        "nondisclosure_changed",
        {"basis": req.nondisclosure_basis, "from": before, "expires_at": expires_at},
        actor=by,
    )
    return req


def notify_user(uow: UnitOfWork, req: AuthorityRequest, *, by: str = "system") -> None:
    """Tell the users whose data was produced (``user_notified``; the platform sends it)."""
    accounts = sorted(
        {
            a
            for p in uow.session.scalars(
                select(AuthorityProduction).where(AuthorityProduction.request_id == req.id)
            )
            for a in p.account_ids
        }
    )
    req.user_notified_at = uow.now()
    _step(
        uow,
        req,
        "user_notified",
        {"account_ids": accounts, "delayed": req.nondisclosure_basis is not None},
        actor=by,
    )


def notify_due(uow: UnitOfWork, *, limit: int = 500) -> list[AuthorityRequest]:
    """Send the notices held back by non-disclosure terms that have now expired."""
    now = uow.now()
    due = list(
        uow.session.scalars(
            select(AuthorityRequest)
            .where(
                AuthorityRequest.status == RequestStatus.PRODUCED.value,
                AuthorityRequest.user_notified_at.is_(None),
                or_(
                    AuthorityRequest.nondisclosure_basis.is_(None),
                    AuthorityRequest.nondisclosure_expires_at <= now,
                ),
            )
            .order_by(AuthorityRequest.id)
            .limit(limit)
        )
    )
    for req in due:
        notify_user(uow, req)
    return due
