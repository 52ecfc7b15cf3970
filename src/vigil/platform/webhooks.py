"""Delivering the feed to webhook endpoints: in order, signed, at least once.

Each endpoint has a cursor (the last delivered ``seq``). A pass sends the events
after it one POST at a time; a 2xx answer moves the cursor in its own committed
transaction. Anything else schedules a retry with exponential backoff and jitter
and stops the endpoint for this pass, so later events never overtake an earlier
one. After ``max_attempts`` failures the event is dead-lettered and delivery moves
on. A crash between the POST and the commit resends the same event with the same
event id on the next pass, which is why receivers dedupe by ``Vigil-Event-Id``.

A short lease on the endpoint's delivery row keeps two workers from interleaving
one endpoint's events; it is a lock, not a fact about the platform, so taking and
releasing it is not an audit event. Deliveries, failed attempts and dead letters are.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, or_, select, update
from sqlalchemy.orm import Session

from vigil import __version__
from vigil.db.base import utcnow
from vigil.db.engine import writer
from vigil.platform import feed, signing
from vigil.platform.models import WebhookDeadLetter, WebhookDelivery, WebhookEndpoint
from vigil.unit_of_work import unit_of_work

log = logging.getLogger("vigil.platform.webhooks")

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class DeliverySettings:
    max_attempts: int = 8
    backoff_base: float = 10.0  # seconds before the first retry (before jitter)
    backoff_cap: float = 3600.0
    timeout: float = 10.0
    batch: int = 100  # events per endpoint per pass
    lease: float = 300.0  # seconds a worker holds an endpoint without renewing


def backoff(attempts: int, settings: DeliverySettings, rng: random.Random) -> timedelta:
    """Delay before try ``attempts + 1``: doubling from ``backoff_base``, capped, half jittered.

    The jitter spreads retries from many endpoints (or many Vigil installs hitting
    one platform) so a recovering receiver is not hit by all of them at once.
    """
    delay = min(settings.backoff_cap, settings.backoff_base * 2 ** max(0, attempts - 1))
    return timedelta(seconds=delay / 2 + rng.uniform(0, delay / 2))


@dataclass
class EndpointReport:
    name: str
    delivered: int = 0
    failed: int = 0
    dead_lettered: int = 0
    more: bool = False  # a full batch went out: more events may be waiting
    skipped: str | None = None


@dataclass
class DeliveryReport:
    endpoints: list[EndpointReport] = field(default_factory=list)

    @property
    def delivered(self) -> int:
        return sum(e.delivered for e in self.endpoints)

    @property
    def failed(self) -> int:
        return sum(e.failed for e in self.endpoints)

    @property
    def dead_lettered(self) -> int:
        return sum(e.dead_lettered for e in self.endpoints)

    @property
    def more(self) -> bool:
        return any(e.more for e in self.endpoints)


@dataclass(frozen=True)
class _Target:
    id: int
    name: str
    url: str
    secret_env: str
    types: tuple[str, ...]


class _LeaseLostError(RuntimeError):
    """Another worker took the endpoint over (our lease expired); stop sending."""


def _worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _due(engine: Engine, now: datetime) -> list[_Target]:
    with Session(engine) as session:
        rows = session.execute(
            select(WebhookEndpoint)
            .join(WebhookDelivery, WebhookDelivery.endpoint_id == WebhookEndpoint.id)
            .where(
                WebhookEndpoint.active.is_(True),
                or_(
                    WebhookDelivery.next_attempt_at.is_(None),
                    WebhookDelivery.next_attempt_at <= now,
                ),
            )
            .order_by(WebhookEndpoint.id)
        ).scalars()
        return [
            _Target(e.id, e.name, e.url, e.secret_env, tuple(e.event_types or ())) for e in rows
        ]


def _claim(
    engine: Engine, target: _Target, owner: str, now: datetime, settings: DeliverySettings
) -> tuple[int, int] | None:
    """Take the endpoint's lease if it is free and due; its (cursor, attempts), or None."""
    state = WebhookDelivery
    with Session(writer(engine)) as session, session.begin():
        result = session.connection().execute(
            update(state)
            .where(
                state.endpoint_id == target.id,
                or_(state.next_attempt_at.is_(None), state.next_attempt_at <= now),
                or_(
                    state.lease_owner.is_(None),
                    state.lease_expires_at.is_(None),
                    state.lease_expires_at <= now,
                ),
            )
            .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=settings.lease))
        )
        if result.rowcount != 1:
            return None
        row = session.execute(
            select(state.cursor_seq, state.attempts).where(state.endpoint_id == target.id)
        ).one()
        return int(row.cursor_seq), int(row.attempts)


def _release(engine: Engine, target: _Target, owner: str) -> None:
    try:
        with Session(writer(engine)) as session, session.begin():
            session.connection().execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.endpoint_id == target.id, WebhookDelivery.lease_owner == owner
                )
                .values(lease_owner=None, lease_expires_at=None)
            )
    except Exception:  # the lease expires on its own; never mask the original error
        log.warning("webhook %s: could not release the delivery lease", target.name, exc_info=True)


def _post(
    client: httpx.Client,
    target: _Target,
    event: feed.FeedEvent,
    secret: str,
    now: datetime,
    timeout: float,
) -> tuple[int | None, str, str | None]:
    """POST one event: (status or None, short error code, error detail or None on success)."""
    body = event.body()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"vigil/{__version__}",
        **signing.sign(secret, event_id=event.id, event_type=event.type, body=body, now=now),
    }
    try:
        response = client.post(
            target.url, content=body, headers=headers, timeout=timeout, follow_redirects=False
        )
    except httpx.TimeoutException as exc:
        return None, "timeout", f"timeout: {exc}"[:300]
    except httpx.TransportError as exc:
        return None, type(exc).__name__, f"{type(exc).__name__}: {exc}"[:300]
    if 200 <= response.status_code < 300:
        return response.status_code, "ok", None
    return response.status_code, f"http_{response.status_code}", f"HTTP {response.status_code}"


@dataclass
class _Run:
    """One worker's pass over one endpoint it holds the lease for."""

    engine: Engine
    client: httpx.Client
    target: _Target
    secret: str
    owner: str
    clock: Clock
    rng: random.Random
    settings: DeliverySettings
    report: EndpointReport

    def commit(
        self,
        expected: int,
        values: dict[str, Any],
        event_type: str,
        payload: dict[str, Any],
        dead_letter: WebhookDeadLetter | None = None,
    ) -> None:
        """Update the delivery row (only while we hold it at ``expected``) and log, atomically."""
        state = WebhookDelivery
        with unit_of_work(self.engine, self.clock) as uow:
            result = uow.session.connection().execute(
                update(state)
                .where(
                    state.endpoint_id == self.target.id,
                    state.lease_owner == self.owner,
                    state.cursor_seq == expected,
                )
                .values(**values)
            )
            if result.rowcount != 1:
                raise _LeaseLostError(self.target.name)
            if dead_letter is not None:
                uow.session.add(dead_letter)
            uow.log.record(event_type, f"webhook:{self.target.id}", payload)

    def drain(self, cursor: int, attempts: int) -> None:
        """Send the events after ``cursor`` in order until one fails or the batch is done."""
        name, settings = self.target.name, self.settings
        with Session(self.engine) as session:
            page = feed.read(
                session, after=cursor, limit=settings.batch, types=self.target.types or None
            )
        for event in page.events:
            now = self.clock()
            status, code, detail = _post(
                self.client, self.target, event, self.secret, now, settings.timeout
            )
            attempts += 1
            facts = {"endpoint": name, "event_id": event.id, "seq": event.seq, "type": event.type}
            seen = {"last_attempt_at": now, "last_status": status, "last_error": detail}
            if detail is not None and attempts < settings.max_attempts:
                retry_at = now + backoff(attempts, settings, self.rng)
                self.commit(
                    cursor,
                    {**seen, "attempts": attempts, "next_attempt_at": retry_at},
                    "webhook.attempt_failed",
                    {
                        **facts,
                        "attempt": attempts,
                        "status": status,
                        "error": code,
                        "next_attempt_at": retry_at,
                    },
                )
                self.report.failed += 1
                log.warning(
                    "webhook %s: %s (%s) failed (%s), attempt %d of %d, retry at %s",
                    name,
                    event.id,
                    event.type,
                    code,
                    attempts,
                    settings.max_attempts,
                    retry_at.isoformat(timespec="seconds"),
                )
                return
            moved: dict[str, Any] = {
                **seen,
                "cursor_seq": event.seq,
                "attempts": 0,
                "next_attempt_at": None,
                "lease_expires_at": now + timedelta(seconds=settings.lease),
            }
            if detail is None:
                moved["delivered"] = WebhookDelivery.delivered + 1
                self.commit(
                    cursor,
                    moved,
                    "webhook.delivered",
                    {**facts, "status": status, "attempts": attempts},
                )
                self.report.delivered += 1
                log.info(
                    "webhook %s: delivered %s (%s), HTTP %s", name, event.id, event.type, status
                )
            else:
                letter = WebhookDeadLetter(
                    endpoint_id=self.target.id,
                    event_seq=event.seq,
                    event_id=event.id,
                    attempts=attempts,
                    last_status=status,
                    last_error=detail,
                    dead_lettered_at=now,
                )
                self.commit(
                    cursor,
                    moved,
                    "webhook.dead_lettered",
                    {**facts, "attempts": attempts, "status": status, "error": code},
                    dead_letter=letter,
                )
                self.report.failed += 1
                self.report.dead_lettered += 1
                log.error(
                    "webhook %s: dead-lettered %s (%s) after %d attempts (%s)",
                    name,
                    event.id,
                    event.type,
                    attempts,
                    code,
                )
            cursor, attempts = event.seq, 0
        self.report.more = len(page.events) == settings.batch


def deliver_once(
    engine: Engine,
    *,
    client: httpx.Client,
    clock: Clock = utcnow,
    rng: random.Random | None = None,
    settings: DeliverySettings | None = None,
    environ: Mapping[str, str] | None = None,
    worker: str | None = None,
) -> DeliveryReport:
    """One pass over every active endpoint that is due; returns what happened per endpoint.

    Endpoints whose secret variable is unset are skipped without using up attempts:
    a configuration mistake must not dead-letter events.
    """
    settings = settings or DeliverySettings()
    rng = rng or random.Random()
    env = os.environ if environ is None else environ
    owner = worker or _worker_id()
    report = DeliveryReport()
    for target in _due(engine, clock()):
        entry = EndpointReport(target.name)
        report.endpoints.append(entry)
        secret = env.get(target.secret_env)
        if not secret:
            entry.skipped = f"secret_env: environment variable {target.secret_env} is not set"
            log.warning("webhook %s: skipped, %s", target.name, entry.skipped)
            continue
        start = _claim(engine, target, owner, clock(), settings)
        if start is None:
            entry.skipped = "another worker holds this endpoint"
            continue
        try:
            run = _Run(engine, client, target, secret, owner, clock, rng, settings, entry)
            run.drain(*start)
        except _LeaseLostError:
            entry.skipped = "lease lost to another worker"
            log.warning("webhook %s: lease lost to another worker; stopped", target.name)
        finally:
            _release(engine, target, owner)
    return report


def deliver_loop(
    engine: Engine,
    *,
    client: httpx.Client,
    interval: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Clock = utcnow,
    settings: DeliverySettings | None = None,
    environ: Mapping[str, str] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    on_report: Callable[[DeliveryReport], None] | None = None,
) -> None:
    """Deliver, then sleep ``interval`` seconds, until ``should_stop``; no sleep while a backlog remains."""
    owner = _worker_id()
    rng = random.Random()
    while True:
        report = deliver_once(
            engine,
            client=client,
            clock=clock,
            rng=rng,
            settings=settings,
            environ=environ,
            worker=owner,
        )
        if on_report is not None:
            on_report(report)
        if should_stop():
            return
        if not report.more:
            sleep(interval)
