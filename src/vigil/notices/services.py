"""Notices after intake: acknowledgement, outcome to the notifier, and notifier standing.

DSA Art. 16(4): every stored notice is acknowledged in the unit of work that
stores it. Art. 16(5): when the item is decided, every notice about it without
an outcome gets one (:func:`record_outcome`). Art. 23: notifiers whose notices
are repeatedly unfounded are warned, then limited (see ``standing``); a limited
notifier's notices beyond the daily allowance are refused at intake
(:func:`intake_refusal`). Events carry identifiers only, never a notice's reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.audit.models import Event
from vigil.items.models import Notice
from vigil.notices import standing
from vigil.notices.models import NoticeOutcome, Notifier, NotifierKind, NotifierStatus
from vigil.notices.standing import Assessment, Sanctions
from vigil.policy.schema import Policy
from vigil.unit_of_work import UnitOfWork

REFUSED_LIMITED = "notifier_limited"
ALLOWANCE_PERIOD = timedelta(days=1)


def subject(notifier: Notifier) -> str:
    return f"notifier:{notifier.id}"


def _notifier(uow: UnitOfWork, name: str, kind: str | None = None) -> Notifier:
    """The notifier's row, created on first sight; ``kind`` follows their latest notice."""
    row = uow.session.scalar(select(Notifier).where(Notifier.notifier == name))
    if row is None:
        if kind is None:
            kind = uow.session.scalar(
                select(Notice.reporter_type)
                .where(Notice.reporter == name)
                .order_by(Notice.id.desc())
                .limit(1)
            )
        row = Notifier(
            notifier=name,
            kind=kind or NotifierKind.USER.value,
            status=NotifierStatus.OK.value,
            notices=0,
            refused=0,
            founded=0,
            unfounded=0,
            window_decided=0,
            window_unfounded=0,
            first_seen_at=uow.now(),
        )
        uow.session.add(row)
        uow.session.flush()
        uow.log.record("notifier.first_seen", subject(row), {"notifier": name, "kind": row.kind})
    elif kind is not None and row.kind != kind:
        row.kind = kind
        uow.log.record("notifier.kind_changed", subject(row), {"notifier": name, "kind": kind})
    return row


def intake_refusal(
    uow: UnitOfWork, *, platform_notice_id: str, notifier: str | None, reporter_type: str
) -> str | None:
    """Why this notice must not be stored, or ``None`` to store it.

    Only a limited notifier's user notices beyond ``per_day`` in the last 24
    hours (by intake time) are refused; the refusal is recorded and counted.
    Anonymous notices and trusted flaggers' notices are never refused.
    """
    if notifier is None or reporter_type == NotifierKind.TRUSTED_FLAGGER.value:
        return None
    now = uow.now()
    row = uow.session.scalar(
        select(Notifier).where(Notifier.notifier == notifier, Notifier.limited_until > now)
    )
    if row is None or row.limited_until is None:
        return None
    allowance = row.per_day or 0
    used = uow.session.scalar(
        select(func.count())
        .select_from(Notice)
        .where(Notice.reporter == notifier, Notice.acknowledged_at > now - ALLOWANCE_PERIOD)
    )
    if int(used or 0) < allowance:
        return None
    row.refused += 1
    uow.log.record(
        "notice.refused",
        subject(row),
        {
            "platform_notice_id": platform_notice_id,
            "notifier": notifier,
            "reason_code": REFUSED_LIMITED,
        },
    )
    return (
        f"reporter: notifier {notifier!r} is limited until "
        f"{row.limited_until:%Y-%m-%d %H:%M} UTC after repeatedly unfounded notices "
        f"(DSA Art. 23) and has used its allowance of {allowance} notice(s) a day"
    )


def acknowledge(uow: UnitOfWork, notice: Notice) -> None:
    """Acknowledge a notice just stored (Art. 16(4)) and count it for its notifier."""
    notice.acknowledged_at = uow.now()
    uow.log.record(
        "notice.acknowledged",
        f"notice:{notice.id}",
        {"notice_id": notice.id, "item_id": notice.item_id},
    )
    if notice.reporter is not None:
        _notifier(uow, notice.reporter, notice.reporter_type).notices += 1
    uow.session.flush()


def record_outcome(
    uow: UnitOfWork,
    *,
    item_id: int,
    decision_id: int | None,
    action_taken: bool,
    policy: Policy,
) -> list[int]:
    """Tell every notifier of the item without an outcome what came of it (Art. 16(5)).

    Call once the decision on the item is final. Each notice gets ``action_taken``
    or ``no_action`` (unfounded) and a ``notice.outcome`` event; then each notifier
    concerned is re-assessed. Returns the ids of the notices given an outcome.
    """
    outcome = NoticeOutcome.ACTION_TAKEN if action_taken else NoticeOutcome.NO_ACTION
    notices = list(
        uow.session.scalars(
            select(Notice)
            .where(Notice.item_id == item_id, Notice.outcome.is_(None))
            .order_by(Notice.id)
        )
    )
    now = uow.now()
    for notice in notices:
        notice.outcome = outcome.value
        notice.outcome_at = now
        notice.decision_id = decision_id
        uow.log.record(
            "notice.outcome",
            f"notice:{notice.id}",
            {
                "notice_id": notice.id,
                "item_id": item_id,
                "outcome": outcome.value,
                "decision_id": decision_id,
            },
        )
    uow.session.flush()
    for name in sorted({n.reporter for n in notices if n.reporter is not None}):
        evaluate_notifier(uow, name, policy)
    return [n.id for n in notices]


def _outcomes(session: Session, name: str, since: datetime | None) -> list[tuple[datetime, bool]]:
    query = select(Notice.outcome_at, Notice.outcome).where(
        Notice.reporter == name, Notice.outcome_at.is_not(None)
    )
    if since is not None:
        query = query.where(Notice.outcome_at > since)
    return [
        (at, outcome == NoticeOutcome.NO_ACTION.value)
        for at, outcome in session.execute(query)
        if at is not None
    ]


def evaluate_notifier(uow: UnitOfWork, name: str, policy: Policy) -> Assessment:
    """Re-assess a notifier now; record a warning or limit when one is due."""
    rules = policy.notices.unfounded
    now = uow.now()
    row = _notifier(uow, name)
    prior = Sanctions(row.warned_at, row.limited_until, row.per_day)
    result = standing.assess(
        _outcomes(uow.session, name, now - rules.window_delta),
        prior,
        rules=rules,
        now=now,
        can_limit=row.kind != NotifierKind.TRUSTED_FLAGGER.value,
    )
    if result.warn:
        uow.log.record(
            standing.WARNED,
            subject(row),
            {
                "notifier": name,
                "unfounded": result.tally.unfounded,
                "decided": result.tally.decided,
            },
        )
    if result.limit:
        assert result.sanctions.limited_until is not None
        uow.log.record(
            standing.LIMITED,
            subject(row),
            {
                "notifier": name,
                "until": result.sanctions.limited_until.isoformat(),
                "per_day": result.sanctions.per_day,
            },
        )
    totals: dict[str | None, int] = {
        outcome: int(count)
        for outcome, count in uow.session.execute(
            select(Notice.outcome, func.count())
            .where(Notice.reporter == name, Notice.outcome.is_not(None))
            .group_by(Notice.outcome)
        )
    }
    row.founded = int(totals.get(NoticeOutcome.ACTION_TAKEN.value, 0))
    row.unfounded = int(totals.get(NoticeOutcome.NO_ACTION.value, 0))
    row.warned_at = result.sanctions.warned_at
    row.limited_until = result.sanctions.limited_until
    row.per_day = result.sanctions.per_day
    row.status = result.status.value
    row.window_decided = result.tally.decided
    row.window_unfounded = result.tally.unfounded
    row.evaluated_at = now
    uow.session.flush()
    return result


def notifier_events(
    session: Session, notifier: Notifier
) -> list[tuple[datetime, str, dict[str, object]]]:
    """The notifier's own events, oldest first, as the reducer takes them."""
    rows = session.execute(
        select(Event.ts, Event.type, Event.body)
        .where(Event.subject == subject(notifier))
        .order_by(Event.seq)
    )
    return [(ts, kind, json.loads(body)["payload"]) for ts, kind, body in rows]


@dataclass(frozen=True)
class NotifierView:
    """A notifier as an operator sees it, with the status at the time asked."""

    notifier: str
    kind: str
    status: NotifierStatus
    notices: int
    refused: int
    founded: int
    unfounded: int
    window_decided: int
    window_unfounded: int
    warned_at: datetime | None
    limited_until: datetime | None
    per_day: int | None
    evaluated_at: datetime | None

    @property
    def window_share(self) -> float:
        return self.window_unfounded / self.window_decided if self.window_decided else 0.0

    @property
    def until(self) -> datetime | None:
        return self.limited_until if self.status is NotifierStatus.LIMITED else None


def _view(row: Notifier, policy: Policy, now: datetime) -> NotifierView:
    sanctions = Sanctions(row.warned_at, row.limited_until, row.per_day)
    return NotifierView(
        notifier=row.notifier,
        kind=row.kind,
        status=sanctions.status_at(now, policy.notices.unfounded.window_delta),
        notices=row.notices,
        refused=row.refused,
        founded=row.founded,
        unfounded=row.unfounded,
        window_decided=row.window_decided,
        window_unfounded=row.window_unfounded,
        warned_at=row.warned_at,
        limited_until=row.limited_until,
        per_day=row.per_day,
        evaluated_at=row.evaluated_at,
    )


def list_notifiers(
    session: Session, *, policy: Policy, now: datetime, status: NotifierStatus | None = None
) -> list[NotifierView]:
    """Notifiers, most unfounded first; with ``status``, only those in it at ``now``."""
    query = select(Notifier).order_by(
        Notifier.window_unfounded.desc(), Notifier.unfounded.desc(), Notifier.notifier
    )
    if status is NotifierStatus.LIMITED:
        query = query.where(Notifier.limited_until > now)
    elif status is NotifierStatus.WARNED:
        query = query.where(Notifier.warned_at > now - policy.notices.unfounded.window_delta)
    views = [_view(row, policy, now) for row in session.scalars(query)]
    return [v for v in views if status is None or v.status is status]


def find_notifier(
    session: Session, name: str, *, policy: Policy, now: datetime
) -> NotifierView | None:
    row = session.scalar(select(Notifier).where(Notifier.notifier == name))
    return None if row is None else _view(row, policy, now)


def notices_of(session: Session, name: str, limit: int = 20) -> Sequence[Notice]:
    """The notifier's latest notices (for ``vigil notices show``)."""
    return list(
        session.scalars(
            select(Notice).where(Notice.reporter == name).order_by(Notice.id.desc()).limit(limit)
        )
    )
