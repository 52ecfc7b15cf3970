"""Platform test helpers: a fake clock, a real signature-checking receiver, and enforcement to feed."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from vigil.actions.services import apply_action
from vigil.audit.models import Event
from vigil.items.models import Account, Item, Notice
from vigil.platform import signing
from vigil.policy.schema import ActionKind, Policy
from vigil.policy.services import load_active
from vigil.unit_of_work import unit_of_work

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
SECRET = "whsec-test-0f9e8d7c6b5a4321-do-not-leak"
SECRET_ENV = "VIGIL_TEST_WEBHOOK_SECRET"


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def to(self, when: datetime) -> None:
        self.now = max(self.now, when)


_POLICY: Policy | None = None


def policy() -> Policy:
    global _POLICY
    if _POLICY is None:
        _POLICY = load_active(None)[0]
    return _POLICY


def add_item(engine: Engine, pid: str, *, account: str = "acct-1", country: str = "DE") -> int:
    """A stored post by ``account``; returns the item's id."""
    with unit_of_work(engine, FakeClock()) as uow:
        acct = uow.session.scalar(select(Account).where(Account.platform_account_id == account))
        if acct is None:
            acct = Account(platform_account_id=account, country=country, first_seen_at=T0)
            uow.session.add(acct)
            uow.session.flush()
        item = Item(
            platform_item_id=pid,
            kind="post",
            account_id=acct.id,
            created_at=T0,
            ingested_at=T0,
            language="en",
            country=country,
            text="[SYNTHETIC TEST CONTENT] hello",
        )
        uow.session.add(item)
        uow.session.flush()
        return item.id


def act(
    engine: Engine,
    pid: str,
    *,
    kind: ActionKind = ActionKind.REMOVE_CONTENT,
    category: str = "harassment",
    account: str = "acct-1",
    country: str = "DE",
    clock: FakeClock | None = None,
) -> int:
    """Store an item and apply ``kind`` to it, as automation would; returns the action id."""
    item_id = add_item(engine, pid, account=account, country=country)
    with unit_of_work(engine, clock or FakeClock()) as uow:
        item = uow.session.get(Item, item_id)
        assert item is not None
        action = apply_action(
            uow,
            kind=kind,
            item=item,
            policy=policy(),
            category=category,
            rule_id="test-rule",
            automated=True,
        )
        assert action is not None
        return action.id


def add_notice(engine: Engine, pid: str, item_id: int) -> int:
    with unit_of_work(engine, FakeClock()) as uow:
        notice = Notice(
            platform_notice_id=pid,
            item_id=item_id,
            reporter="reporter-7",
            reporter_type="user",
            category="harassment",
            received_at=T0,
        )
        uow.session.add(notice)
        uow.session.flush()
        return notice.id


def record(engine: Engine, event_type: str, subject: str, payload: dict[str, Any]) -> None:
    with unit_of_work(engine, FakeClock()) as uow:
        uow.log.record(event_type, subject, payload)


def noise(engine: Engine, n: int) -> None:
    """Events no platform needs to see, as the pipeline writes them in bulk."""
    with unit_of_work(engine, FakeClock()) as uow:
        for i in range(n):
            uow.log.record("item.scanned", f"item:{i}", {"content_dropped": False})


def events(engine: Engine, event_type: str) -> list[dict[str, Any]]:
    with Session(engine) as s:
        rows = s.scalars(select(Event).where(Event.type == event_type).order_by(Event.seq))
        return [json.loads(r.body)["payload"] for r in rows]


@dataclass
class Received:
    event_id: str
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A platform's webhook receiver: checks every signature and dedupes by event id.

    ``script`` lists the statuses to answer in turn (then 200). It answers 401 to a
    bad signature whatever the script says.
    """

    secret: str
    clock: Callable[[], datetime]
    script: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[str] = field(default_factory=list)
    url: str = ""

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        try:
            event_id = signing.verify(self.secret, headers, body, now=self.clock())
        except signing.SignatureError as exc:
            self.rejected.append(str(exc))
            self.requests.append(Received("", 401, headers, body))
            return 401
        status = self.script.pop(0) if self.script else 200
        self.requests.append(Received(event_id, status, headers, body))
        if status == 200:
            if event_id in self.accepted:
                self.duplicates += 1  # already acted on: acknowledge, do nothing
            else:
                self.accepted[event_id] = json.loads(body)
                self.order.append(event_id)
        return status


@contextmanager
def serve_receiver(receiver: Receiver) -> Iterator[Receiver]:
    """Run ``receiver`` as a real HTTP server on a free loopback port, in a thread."""
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                status = receiver.handle(dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/vigil"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
