"""The platform feed: the audit events a platform must act on, as messages with its own ids.

The feed is read from the event log itself, so it cannot disagree with what was
recorded. An event's ``seq`` is the cursor: writers extend the log one transaction
after another (the chain head is locked), so events become visible in ``seq`` order
and "everything after N" never skips a late commit. Each event's id for platforms
is derived from its chain hash: stable across redeliveries and re-reads, and never
shared by two events, even across databases.

Vigil's internal ids are translated into the platform's (``platform_item_id``,
``platform_account_id``, ``platform_notice_id``); ids the platform only knows from
Vigil (action, decision, appeal) stay Vigil's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from vigil.appeals.models import Appeal
from vigil.audit.canonical import canonical_json
from vigil.audit.models import Event
from vigil.authorities.models import AuthorityRequest
from vigil.cases.models import Decision
from vigil.items.models import Account, Item, Notice
from vigil.statements.models import StatementOfReasons
from vigil.statements.services import render_for_user

ACTION_APPLIED = "action.applied"
ACTION_REVERSED = "action.reversed"
ACTION_LAPSED = "action.lapsed"
ACCOUNT_ESCALATED = "account.escalated"
NOTICE_ACKNOWLEDGED = "notice.acknowledged"
NOTICE_OUTCOME = "notice.outcome"
NOTIFIER_WARNED = "notifier.warned"
NOTIFIER_LIMITED = "notifier.limited"
APPEAL_DECIDED = "appeal.decided"
AUTHORITY_USER_NOTIFIED = "authority_request.user_notified"

FEED_TYPES: tuple[str, ...] = (
    ACTION_APPLIED,
    ACTION_REVERSED,
    ACTION_LAPSED,
    ACCOUNT_ESCALATED,
    NOTICE_ACKNOWLEDGED,
    NOTICE_OUTCOME,
    NOTIFIER_WARNED,
    NOTIFIER_LIMITED,
    APPEAL_DECIDED,
    AUTHORITY_USER_NOTIFIED,
)
MAX_PAGE = 500
EVENT_ID_PREFIX = "evt_"


class CursorError(ValueError):
    """A cursor the feed never handed out."""


def event_id(event_hash: str) -> str:
    """The id platforms see for an event: 128 bits of its chain hash."""
    return EVENT_ID_PREFIX + event_hash[:32]


def format_cursor(seq: int) -> str:
    return str(seq)


def parse_cursor(text: str | None) -> int:
    """The seq a cursor stands for; an empty cursor is the start of the log."""
    if text is None or text == "":
        return 0
    if not text.isdigit() or len(text) > 19:
        raise CursorError(f"cursor {text!r} is not one this feed handed out")
    return int(text)


def check_types(types: Iterable[str] | None) -> tuple[str, ...]:
    """The requested feed types in feed order; all of them when none are given."""
    wanted = list(types or [])
    unknown = sorted(set(wanted) - set(FEED_TYPES))
    if unknown:
        raise ValueError(
            f"event types: {', '.join(unknown)} not in the feed ({', '.join(FEED_TYPES)})"
        )
    return tuple(t for t in FEED_TYPES if t in wanted) if wanted else FEED_TYPES


@dataclass(frozen=True)
class FeedEvent:
    seq: int
    id: str
    type: str
    occurred_at: str  # ISO 8601, exactly as hashed into the log
    data: dict[str, Any]

    @property
    def cursor(self) -> str:
        return format_cursor(self.seq)

    def message(self) -> dict[str, Any]:
        """The message as a platform receives it, by webhook and by pull alike."""
        return {
            "id": self.id,
            "type": self.type,
            "cursor": self.cursor,
            "occurred_at": self.occurred_at,
            "data": self.data,
        }

    def body(self) -> bytes:
        """The exact bytes sent (and signed): canonical JSON, UTF-8."""
        return canonical_json(self.message()).encode("utf-8")


@dataclass(frozen=True)
class FeedPage:
    events: list[FeedEvent]
    next_cursor: str


def type_query(event_type: str, after: int, limit: int) -> Select[int]:
    """Seqs of one type after the cursor: a range scan on ``ix_events_type_seq``."""
    return (
        select(Event.seq)
        .where(Event.type == event_type, Event.seq > after)
        .order_by(Event.seq)
        .limit(limit)
    )


def read(
    session: Session,
    *,
    after: int = 0,
    limit: int = 100,
    types: Collection[str] | None = None,
) -> FeedPage:
    """Up to ``limit`` feed events after the cursor, oldest first.

    One index range query per type, merged, so the cost follows the page size and
    never the number of other events in the log. ``next_cursor`` is the last event's
    cursor, or ``after`` itself when nothing new has happened.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit: {limit} is not between 1 and {MAX_PAGE}")
    seqs: list[int] = []
    for event_type in check_types(types):
        seqs.extend(session.scalars(type_query(event_type, after, limit)))
    seqs = sorted(seqs)[:limit]
    if not seqs:
        return FeedPage([], format_cursor(after))
    rows = list(session.scalars(select(Event).where(Event.seq.in_(seqs)).order_by(Event.seq)))
    events = to_messages(session, rows)
    return FeedPage(events, format_cursor(seqs[-1]))


@dataclass
class _Lookups:
    """Platform ids and statements for one page, fetched in a few queries."""

    items: dict[int, str]
    accounts: dict[int, str]
    notices: dict[int, str]
    statements: dict[int, StatementOfReasons]
    # What reviewers wrote for the affected user, by decision; the answers to appeals, by appeal.
    messages: dict[int, str]
    appeals: dict[int, Appeal]
    requests: dict[int, AuthorityRequest]

    def item(self, item_id: Any) -> str | None:
        return self.items.get(item_id) if isinstance(item_id, int) else None

    def account(self, account_id: Any) -> str | None:
        return self.accounts.get(account_id) if isinstance(account_id, int) else None

    def notice(self, notice_id: Any) -> str | None:
        return self.notices.get(notice_id) if isinstance(notice_id, int) else None


def _action_id(subject: str) -> int | None:
    kind, _, ident = subject.partition(":")
    return int(ident) if kind == "action" and ident.isdigit() else None


def _ints(values: Iterable[Any]) -> set[int]:
    return {v for v in values if isinstance(v, int) and not isinstance(v, bool)}


def _ids(session: Session, stmt: Select[int, str]) -> dict[int, str]:
    return {int(k): str(v) for k, v in session.execute(stmt)}


def _lookups(session: Session, parsed: Sequence[tuple[Event, dict[str, Any]]]) -> _Lookups:
    item_ids = _ints(p.get("item_id") for _, p in parsed)
    account_ids = _ints(p.get("account_id") for _, p in parsed)
    account_ids |= _ints(a for _, p in parsed for a in (p.get("account_ids") or ()))
    notice_ids = _ints(p.get("notice_id") for _, p in parsed)
    action_ids = _ints(_action_id(e.subject) for e, _ in parsed if e.type == ACTION_APPLIED)
    items = _ids(session, select(Item.id, Item.platform_item_id).where(Item.id.in_(item_ids)))
    accounts = _ids(
        session,
        select(Account.id, Account.platform_account_id).where(Account.id.in_(account_ids)),
    )
    notices = _ids(
        session, select(Notice.id, Notice.platform_notice_id).where(Notice.id.in_(notice_ids))
    )
    statements: dict[int, StatementOfReasons] = {}
    if action_ids:
        statements = {
            s.action_id: s
            for s in session.scalars(
                select(StatementOfReasons).where(StatementOfReasons.action_id.in_(action_ids))
            )
        }
    decision_ids = _ints(p.get("decision_id") for e, p in parsed if e.type == ACTION_APPLIED)
    messages = {
        int(k): str(v)
        for k, v in session.execute(
            select(Decision.id, Decision.user_message).where(
                Decision.id.in_(decision_ids), Decision.user_message.is_not(None)
            )
        )
    }
    appeal_ids = _ints(p.get("appeal_id") for e, p in parsed if e.type == APPEAL_DECIDED)
    appeals = {a.id: a for a in session.scalars(select(Appeal).where(Appeal.id.in_(appeal_ids)))}
    request_ids = _ints(p.get("request_id") for e, p in parsed if e.type == AUTHORITY_USER_NOTIFIED)
    requests = {
        r.id: r
        for r in session.scalars(
            select(AuthorityRequest).where(AuthorityRequest.id.in_(request_ids))
        )
    }
    return _Lookups(items, accounts, notices, statements, messages, appeals, requests)


def _action_applied(event: Event, p: dict[str, Any], look: _Lookups) -> dict[str, Any]:
    action_id = _action_id(event.subject)
    statement = look.statements.get(action_id) if action_id is not None else None
    return {
        "action_id": action_id,
        "kind": p.get("kind"),
        "category": p.get("category"),
        "platform_item_id": look.item(p.get("item_id")),
        "platform_account_id": look.account(p.get("account_id")),
        "automated": p.get("automated"),
        "ends_at": p.get("ends_at"),
        "decision_id": p.get("decision_id"),
        "message": look.messages.get(p["decision_id"]) if p.get("decision_id") else None,
        "statement": (
            {"puid": statement.puid, "text": render_for_user(statement)}
            if statement is not None
            else None
        ),
    }


def _action_reversed(event: Event, p: dict[str, Any], look: _Lookups) -> dict[str, Any]:
    return {
        "action_id": p.get("action_id"),
        "kind": p.get("kind"),
        "platform_item_id": look.item(p.get("item_id")),
        "platform_account_id": look.account(p.get("account_id")),
        "appeal_id": p.get("appeal_id"),
    }


def _action_lapsed(event: Event, p: dict[str, Any], look: _Lookups) -> dict[str, Any]:
    return {
        "action_id": p.get("action_id"),
        "kind": p.get("kind"),
        "platform_account_id": look.account(p.get("account_id")),
        "ends_at": p.get("ends_at"),
        "account_status": p.get("account_status"),
    }


def _account_escalated(event: Event, p: dict[str, Any], look: _Lookups) -> dict[str, Any]:
    return {
        "platform_account_id": look.account(p.get("account_id")),
        "weight_before": p.get("weight_before"),
        "weight_after": p.get("weight_after"),
        "action": p.get("action"),
    }


def _notice_acknowledged(event: Event, p: dict[str, Any], look: _Lookups) -> dict[str, Any]:
    return {
        "platform_notice_id": look.notice(p.get("notice_id")),
        "platform_item_id": look.item(p.get("item_id")),
    }


def _notice_outcome(event: Event, p: dict[str, Any], look: _Lookups) -> dict[str, Any]:
    return {
        "platform_notice_id": look.notice(p.get("notice_id")),
        "platform_item_id": look.item(p.get("item_id")),
        "outcome": p.get("outcome"),
        "decision_id": p.get("decision_id"),
    }


def _notifier_warned(event: Event, p: dict[str, Any], look: _Lookups) -> dict[str, Any]:
    return {
        "notifier": p.get("notifier"),
        "unfounded": p.get("unfounded"),
        "decided": p.get("decided"),
    }


def _notifier_limited(event: Event, p: dict[str, Any], look: _Lookups) -> dict[str, Any]:
    return {"notifier": p.get("notifier"), "until": p.get("until"), "per_day": p.get("per_day")}


def _appeal_decided(event: Event, p: dict[str, Any], look: _Lookups) -> dict[str, Any]:
    appeal = look.appeals.get(p["appeal_id"]) if isinstance(p.get("appeal_id"), int) else None
    return {
        "appeal_id": p.get("appeal_id"),
        "outcome": p.get("outcome"),
        "decision_id": p.get("decision_id"),
        # The reasoned answer for the appellant, which names the out-of-court option.
        "appellant_kind": appeal.appellant_kind if appeal is not None else None,
        "appellant": appeal.appellant if appeal is not None else None,
        "answer": appeal.answer if appeal is not None else None,
    }


def _authority_user_notified(event: Event, p: dict[str, Any], look: _Lookups) -> dict[str, Any]:
    """Tell these users that an authority obtained their data (after any non-disclosure term)."""
    req = look.requests.get(p["request_id"]) if isinstance(p.get("request_id"), int) else None
    return {
        "request_id": p.get("request_id"),
        "platform_account_ids": [look.account(a) for a in p.get("account_ids") or ()],
        "authority": req.authority_name if req is not None else None,
        "country": req.authority_country if req is not None else None,
        "instrument": req.instrument if req is not None else None,
        "delayed": p.get("delayed"),
    }


_Mapper = Callable[[Event, dict[str, Any], _Lookups], dict[str, Any]]
_MAPPERS: dict[str, _Mapper] = {
    ACTION_APPLIED: _action_applied,
    ACTION_REVERSED: _action_reversed,
    ACTION_LAPSED: _action_lapsed,
    ACCOUNT_ESCALATED: _account_escalated,
    NOTICE_ACKNOWLEDGED: _notice_acknowledged,
    NOTICE_OUTCOME: _notice_outcome,
    NOTIFIER_WARNED: _notifier_warned,
    NOTIFIER_LIMITED: _notifier_limited,
    APPEAL_DECIDED: _appeal_decided,
    AUTHORITY_USER_NOTIFIED: _authority_user_notified,
}


def to_messages(session: Session, rows: Sequence[Event]) -> list[FeedEvent]:
    """Feed events for audit rows of feed types (rows of other types are left out)."""
    bodies = [(row, json.loads(row.body)) for row in rows if row.type in _MAPPERS]
    parsed = [(row, body["payload"]) for row, body in bodies]
    look = _lookups(session, parsed)
    return [
        FeedEvent(
            seq=row.seq,
            id=event_id(row.hash),
            type=row.type,
            occurred_at=body["ts"],
            data=_MAPPERS[row.type](row, body["payload"], look),
        )
        for row, body in bodies
    ]
