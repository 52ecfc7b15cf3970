"""Authority-request test helpers: a fake clock, staff, accounts with items, and request bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from vigil.audit.models import Event
from vigil.items.models import Account, Item
from vigil.policy.schema import Policy
from vigil.policy.services import load_active
from vigil.staff.models import Role
from vigil.staff.services import add_member
from vigil.unit_of_work import unit_of_work

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def policy() -> Policy:
    return load_active()[0]


def add_staff(engine: Engine) -> None:
    with unit_of_work(engine, clock=lambda: T0) as uow:
        add_member(uow, "lena", [Role.LEGAL_OFFICER])
        add_member(uow, "omar", [Role.LEGAL_OFFICER])
        add_member(uow, "mo", [Role.MODERATOR])


def add_account(
    engine: Engine,
    pid: str,
    handle: str,
    *,
    items: int = 2,
    created: datetime = T0 - timedelta(days=20),
    seen: datetime = T0 - timedelta(days=60),
) -> int:
    """An account with ``items`` posts a day apart from ``created``, each with text."""
    with Session(engine) as s:
        acct = Account(
            platform_account_id=pid,
            handle=handle,
            country="DE",
            registered_at=seen,
            first_seen_at=seen,
        )
        s.add(acct)
        s.flush()
        for n in range(items):
            at = created + timedelta(days=n)
            s.add(
                Item(
                    platform_item_id=f"{pid}-post-{n}",
                    kind="post",
                    account_id=acct.id,
                    created_at=at,
                    ingested_at=at,
                    text=f"text of {pid} number {n}",
                )
            )
        s.commit()
        return acct.id


def body(**over: Any) -> dict[str, Any]:
    """A well-formed production order for one named account."""
    data: dict[str, Any] = {
        "reference": "BKA-2026-0042",
        "kind": "production",
        "authority": {"name": "Bundeskriminalamt", "country": "DE", "agency_type": "police"},
        "instrument": "EU_EPOC_PRODUCTION",
        "channel": "le_portal",
        "targets": [{"identifier_type": "account_id", "value": "acct-suspect"}],
        "time_range": {"from": "2026-09-01T00:00:00Z", "to": "2026-09-30T23:59:59Z"},
        "data_categories": ["subscriber_basic", "content"],
    }
    data.update(over)
    return data


def events(engine: Engine, prefix: str = "") -> list[tuple[str, str, dict[str, Any]]]:
    import json

    with Session(engine) as s:
        rows = s.execute(select(Event.type, Event.subject, Event.body).order_by(Event.seq)).all()
    out = [(t, subj, json.loads(b)["payload"]) for t, subj, b in rows]
    return [e for e in out if e[0].startswith(prefix)]
