"""Webhook delivery on both backends, to a real receiver on loopback that checks signatures.

The receiver dedupes by event id, as platforms are told to; the tests show why
they must (a crash between POST and commit resends) and that it is enough.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from tests.platform.support import (
    SECRET,
    SECRET_ENV,
    FakeClock,
    Receiver,
    act,
    events,
    noise,
    record,
    serve_receiver,
)
from vigil.platform import services
from vigil.platform.models import WebhookDeadLetter, WebhookDelivery
from vigil.platform.webhooks import (
    DeliveryReport,
    DeliverySettings,
    backoff,
    deliver_loop,
    deliver_once,
)
from vigil.unit_of_work import unit_of_work

ENV = {SECRET_ENV: SECRET}
FAST = DeliverySettings(max_attempts=3, backoff_base=10, backoff_cap=60, timeout=5)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def receiver(clock: FakeClock) -> Iterator[Receiver]:
    with serve_receiver(Receiver(SECRET, clock)) as r:
        yield r


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


def _add(engine: Engine, url: str) -> int:
    """An endpoint named "platform" that also gets events recorded before it was added."""
    with unit_of_work(engine) as uow:
        endpoint = services.add_endpoint(
            uow, name="platform", url=url, secret_env=SECRET_ENV, from_start=True
        )
        return endpoint.id


def _state(engine: Engine, endpoint_id: int) -> WebhookDelivery:
    with Session(engine) as s:
        row = s.get(WebhookDelivery, endpoint_id)
        assert row is not None
        return row


def _deliver(
    engine: Engine, client: httpx.Client, clock: FakeClock, settings: DeliverySettings = FAST
) -> DeliveryReport:
    return deliver_once(
        engine, client=client, clock=clock, rng=random.Random(7), settings=settings, environ=ENV
    )


def _feed_ids(engine: Engine) -> list[str]:
    return [e["event_id"] for e in events(engine, "webhook.delivered")]


def test_delivers_signed_events_in_order_and_moves_the_cursor(
    engine: Engine, receiver: Receiver, client: httpx.Client, clock: FakeClock
) -> None:
    endpoint = _add(engine, receiver.url)
    for i in range(4):
        act(engine, f"post-{i}")
        noise(engine, 2)  # events no platform sees sit between the actions
    report = _deliver(engine, client, clock)
    assert (report.delivered, report.failed) == (4, 0)
    assert receiver.rejected == []
    items = [m["data"]["platform_item_id"] for m in receiver.accepted.values()]
    assert items == ["post-0", "post-1", "post-2", "post-3"]
    seqs = [int(m["cursor"]) for m in receiver.accepted.values()]
    assert seqs == sorted(seqs)
    request = receiver.requests[0]
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Vigil-Event-Type"] == "action.applied"
    assert request.headers["Vigil-Timestamp"] == str(int(clock.now.timestamp()))
    assert request.headers["Vigil-Signature"].startswith("v1=")
    assert json.loads(request.body)["id"] == request.event_id
    state = _state(engine, endpoint)
    assert (state.cursor_seq, state.delivered, state.attempts) == (seqs[-1], 4, 0)
    assert state.lease_owner is None
    assert _feed_ids(engine) == receiver.order
    # Nothing new: a second pass sends nothing.
    assert _deliver(engine, client, clock).delivered == 0
    assert len(receiver.requests) == 4


def test_batches_continue_where_the_last_one_stopped(
    engine: Engine, receiver: Receiver, client: httpx.Client, clock: FakeClock
) -> None:
    _add(engine, receiver.url)
    for i in range(5):
        act(engine, f"post-{i}")
    small = DeliverySettings(batch=2)
    reports = [_deliver(engine, client, clock, small) for _ in range(4)]
    assert [r.delivered for r in reports] == [2, 2, 1, 0]
    assert [r.more for r in reports] == [True, True, False, False]
    items = [m["data"]["platform_item_id"] for m in receiver.accepted.values()]
    assert items == [f"post-{i}" for i in range(5)]


def test_failures_retry_with_backoff_and_the_same_event_id(
    engine: Engine, receiver: Receiver, client: httpx.Client, clock: FakeClock
) -> None:
    endpoint = _add(engine, receiver.url)
    act(engine, "post-1")
    receiver.script = [500, 500]
    t0 = clock.now
    assert _deliver(engine, client, clock).failed == 1
    first = _state(engine, endpoint)
    assert first.attempts == 1
    assert first.last_status == 500
    assert first.last_error == "HTTP 500"
    assert first.next_attempt_at is not None
    assert timedelta(seconds=5) <= first.next_attempt_at - t0 <= timedelta(seconds=10)

    clock.to(first.next_attempt_at - timedelta(seconds=1))  # not due yet: nothing is sent
    assert _deliver(engine, client, clock).endpoints == []
    assert len(receiver.requests) == 1

    clock.to(first.next_attempt_at)
    assert _deliver(engine, client, clock).failed == 1
    second = _state(engine, endpoint)
    assert second.attempts == 2
    assert second.next_attempt_at is not None
    gap = second.next_attempt_at - clock.now
    assert timedelta(seconds=10) <= gap <= timedelta(seconds=20)  # doubled

    clock.to(second.next_attempt_at)
    assert _deliver(engine, client, clock).delivered == 1
    ids = {r.event_id for r in receiver.requests}
    assert len(ids) == 1
    assert [r.status for r in receiver.requests] == [500, 500, 200]
    stamps = [r.headers["Vigil-Timestamp"] for r in receiver.requests]
    assert len(set(stamps)) == 3  # each try is signed afresh
    assert list(receiver.accepted) == list(ids)
    done = _state(engine, endpoint)
    assert (done.attempts, done.next_attempt_at, done.last_error) == (0, None, None)
    failed = events(engine, "webhook.attempt_failed")
    assert [(e["attempt"], e["status"], e["error"]) for e in failed] == [
        (1, 500, "http_500"),
        (2, 500, "http_500"),
    ]
    assert events(engine, "webhook.delivered")[0]["attempts"] == 3


def test_a_later_event_never_overtakes_a_failing_one(
    engine: Engine, receiver: Receiver, client: httpx.Client, clock: FakeClock
) -> None:
    endpoint = _add(engine, receiver.url)
    for i in range(3):
        act(engine, f"post-{i}")
    receiver.script = [200, 503]
    report = _deliver(engine, client, clock)
    assert (report.delivered, report.failed) == (1, 1)
    assert len(receiver.requests) == 2  # post-2 was not tried after post-1 failed
    clock.to(_state(engine, endpoint).next_attempt_at or clock.now)
    assert _deliver(engine, client, clock).delivered == 2
    items = [m["data"]["platform_item_id"] for m in receiver.accepted.values()]
    assert items == ["post-0", "post-1", "post-2"]


class _CrashAfterPost(httpx.HTTPTransport):
    """The worker dies after the receiver got the request, before the cursor is committed."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        response.read()
        raise RuntimeError("worker killed after POST")


def test_a_crash_after_post_resends_and_the_receiver_dedupes(
    engine: Engine, receiver: Receiver, client: httpx.Client, clock: FakeClock
) -> None:
    endpoint = _add(engine, receiver.url)
    act(engine, "post-1")
    with (
        httpx.Client(transport=_CrashAfterPost()) as crashing,
        pytest.raises(RuntimeError, match="killed"),
    ):
        _deliver(engine, crashing, clock)
    assert len(receiver.accepted) == 1  # the platform did receive it
    crashed = _state(engine, endpoint)
    assert (crashed.cursor_seq, crashed.delivered) == (0, 0)  # but Vigil never recorded it
    assert crashed.lease_owner is None  # the lease was handed back
    assert events(engine, "webhook.delivered") == []

    assert _deliver(engine, client, clock).delivered == 1
    assert [r.event_id for r in receiver.requests] == [receiver.order[0]] * 2
    assert receiver.duplicates == 1
    assert len(receiver.accepted) == 1
    assert _feed_ids(engine) == receiver.order
    assert _state(engine, endpoint).cursor_seq > 0


def test_after_max_attempts_the_event_is_dead_lettered_and_delivery_moves_on(
    engine: Engine, receiver: Receiver, client: httpx.Client, clock: FakeClock
) -> None:
    endpoint = _add(engine, receiver.url)
    act(engine, "post-1")
    act(engine, "post-2")
    receiver.script = [500, 500, 500, 500]  # post-1 three times, then post-2 once
    for _ in range(3):
        _deliver(engine, client, clock)
        clock.to(_state(engine, endpoint).next_attempt_at or clock.now)
    with Session(engine) as s:
        (letter,) = s.scalars(select(WebhookDeadLetter)).all()
    first_id = receiver.requests[0].event_id
    assert (letter.event_id, letter.attempts, letter.last_status) == (first_id, 3, 500)
    assert letter.endpoint_id == endpoint
    dead = events(engine, "webhook.dead_lettered")
    assert dead == [
        {
            "endpoint": "platform",
            "event_id": first_id,
            "seq": letter.event_seq,
            "type": "action.applied",
            "attempts": 3,
            "status": 500,
            "error": "http_500",
        }
    ]
    # Delivery moved on: post-2 was tried in the same pass, failed once, then gets through.
    assert [r.event_id for r in receiver.requests[:3]] == [first_id] * 3
    second_id = receiver.requests[3].event_id
    assert second_id != first_id
    clock.to(_state(engine, endpoint).next_attempt_at or clock.now)
    assert _deliver(engine, client, clock).delivered == 1
    assert list(receiver.accepted) == [second_id]
    state = _state(engine, endpoint)
    assert state.cursor_seq > letter.event_seq
    assert state.attempts == 0
    with Session(engine) as s:
        assert [d.event_id for d in services.dead_letters(s, "platform")] == [first_id]


def test_unreachable_endpoint_counts_as_a_failed_attempt(
    engine: Engine, client: httpx.Client, clock: FakeClock
) -> None:
    with serve_receiver(Receiver(SECRET, clock)) as gone:
        url = gone.url  # the port is closed once the server stops
    endpoint = _add(engine, url)
    act(engine, "post-1")
    assert _deliver(engine, client, clock).failed == 1
    state = _state(engine, endpoint)
    assert state.attempts == 1
    assert state.last_status is None
    assert state.last_error is not None
    assert state.last_error.startswith("ConnectError")
    assert events(engine, "webhook.attempt_failed")[0]["error"] == "ConnectError"


def test_event_type_filter_and_start_at_the_head(
    engine: Engine, receiver: Receiver, client: httpx.Client, clock: FakeClock
) -> None:
    act(engine, "before")  # recorded before the endpoint existed
    with unit_of_work(engine) as uow:
        services.add_endpoint(
            uow,
            name="reversals",
            url=receiver.url,
            secret_env=SECRET_ENV,
            event_types=["action.reversed"],
        )
    act(engine, "after")
    record(engine, "action.reversed", "action:1", {"action_id": 1, "kind": "remove_content"})
    assert _deliver(engine, client, clock).delivered == 1
    assert [m["type"] for m in receiver.accepted.values()] == ["action.reversed"]


def test_missing_secret_skips_without_using_up_attempts(
    engine: Engine, receiver: Receiver, client: httpx.Client, clock: FakeClock
) -> None:
    endpoint = _add(engine, receiver.url)
    act(engine, "post-1")
    report = deliver_once(engine, client=client, clock=clock, settings=FAST, environ={})
    assert report.endpoints[0].skipped is not None
    assert SECRET_ENV in report.endpoints[0].skipped
    assert receiver.requests == []
    assert _state(engine, endpoint).attempts == 0


def test_disabled_endpoints_wait_and_then_catch_up(
    engine: Engine, receiver: Receiver, client: httpx.Client, clock: FakeClock
) -> None:
    _add(engine, receiver.url)
    with unit_of_work(engine) as uow:
        services.set_endpoint_active(uow, "platform", False)
    act(engine, "post-1")
    assert _deliver(engine, client, clock).endpoints == []
    with unit_of_work(engine) as uow:
        services.set_endpoint_active(uow, "platform", True)
    assert _deliver(engine, client, clock).delivered == 1
    assert [e["name"] for e in events(engine, "webhook.disabled")] == ["platform"]


def test_an_endpoint_held_by_another_worker_is_left_alone_until_its_lease_expires(
    engine: Engine, receiver: Receiver, client: httpx.Client, clock: FakeClock
) -> None:
    endpoint = _add(engine, receiver.url)
    act(engine, "post-1")
    with engine.begin() as c:
        c.execute(
            text(
                "UPDATE webhook_deliveries SET lease_owner = 'other', lease_expires_at = :t "
                "WHERE endpoint_id = :e"
            ),
            {"t": clock.now + timedelta(seconds=60), "e": endpoint},
        )
    report = _deliver(engine, client, clock)
    assert report.endpoints[0].skipped == "another worker holds this endpoint"
    assert receiver.requests == []
    clock.advance(seconds=61)
    assert _deliver(engine, client, clock).delivered == 1


def test_the_secret_never_reaches_events_tables_or_logs(
    engine: Engine,
    receiver: Receiver,
    client: httpx.Client,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    endpoint = _add(engine, receiver.url)
    act(engine, "post-1")
    act(engine, "post-2")
    receiver.script = [500, 500, 500]
    for _ in range(4):  # failures, a dead letter, a delivery
        _deliver(engine, client, clock)
        clock.to(_state(engine, endpoint).next_attempt_at or clock.now)
    deliver_once(engine, client=client, clock=clock, settings=FAST, environ={})
    assert len(receiver.accepted) == 1
    assert events(engine, "webhook.dead_lettered")
    assert "webhook" in caplog.text  # deliveries were logged...
    assert SECRET not in caplog.text  # ...without the secret
    with engine.connect() as c:
        for table in (
            "events", "webhook_endpoints", "webhook_deliveries", "webhook_dead_letters",
        ):  # fmt: skip
            for row in c.execute(text(f"SELECT * FROM {table}")):  # noqa: S608
                assert SECRET not in repr(tuple(row)), table
    assert events(engine, "webhook.added")[0]["secret_env"] == SECRET_ENV


def test_the_loop_sleeps_only_when_caught_up(
    engine: Engine, receiver: Receiver, client: httpx.Client, clock: FakeClock
) -> None:
    _add(engine, receiver.url)
    for i in range(3):
        act(engine, f"post-{i}")
    sleeps: list[float] = []
    reports: list[DeliveryReport] = []
    deliver_loop(
        engine,
        client=client,
        interval=2.5,
        sleep=sleeps.append,
        clock=clock,
        settings=DeliverySettings(batch=2),
        environ=ENV,
        should_stop=lambda: len(reports) == 3,
        on_report=reports.append,
    )
    assert [r.delivered for r in reports] == [2, 1, 0]
    assert sleeps == [2.5]  # after the second pass only; the third pass stopped the loop
    assert len(receiver.accepted) == 3


def test_backoff_doubles_is_capped_and_jittered() -> None:
    settings = DeliverySettings(backoff_base=10, backoff_cap=60)
    rng = random.Random(1)
    for attempts, full in [(1, 10), (2, 20), (3, 40), (4, 60), (9, 60)]:
        delays = {backoff(attempts, settings, rng).total_seconds() for _ in range(50)}
        assert all(full / 2 <= d <= full for d in delays), (attempts, delays)
        assert len(delays) > 40  # spread out, not one fixed delay


def test_urls_are_shown_without_credentials_or_query() -> None:
    url = "https://user:pw@hooks.example:8443/in/vigil?token=abc#x"
    assert services.safe_url(url) == "https://hooks.example:8443/in/vigil"
