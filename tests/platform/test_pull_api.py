"""The pull API on both backends: bearer tokens, paging by cursor, only feed events."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.platform.support import act, noise, record
from vigil.platform import services
from vigil.platform.feed import FEED_TYPES
from vigil.platform.views import create_app
from vigil.unit_of_work import unit_of_work


def _token(engine: Engine, name: str = "platform") -> str:
    with unit_of_work(engine) as uow:
        return services.create_token(uow, name)[1]


@pytest.fixture
def api(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine)) as client:
        yield client


def _get(api: TestClient, token: str, **params: Any) -> Any:
    return api.get("/v1/platform/feed", params=params, headers={"Authorization": f"Bearer {token}"})


def test_tokens_are_required_and_revocable(engine: Engine, api: TestClient) -> None:
    token = _token(engine)
    assert token.startswith("vgl_")
    assert _get(api, token).status_code == 200
    for headers in (
        {},
        {"Authorization": token},  # no scheme
        {"Authorization": f"Basic {token}"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer vgl_not-a-token"},
        {"Authorization": f"Bearer {token}x"},
    ):
        response = api.get("/v1/platform/feed", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"] == "Bearer"
    with unit_of_work(engine) as uow:
        services.revoke_token(uow, "platform")
    revoked = _get(api, token)
    assert revoked.status_code == 401
    assert revoked.json() == {"detail": "invalid or revoked token"}


def test_token_is_stored_only_as_its_hash(engine: Engine) -> None:
    token = _token(engine)
    with engine.connect() as c:
        rows = [tuple(r) for r in c.exec_driver_sql("SELECT * FROM platform_tokens")]
        bodies = [r[0] for r in c.exec_driver_sql("SELECT body FROM events")]
    assert token not in repr(rows)
    assert services.token_digest(token) in repr(rows)
    assert all(token not in b and services.token_digest(token) not in b for b in bodies)
    with unit_of_work(engine) as uow, pytest.raises(services.PlatformError, match="name:"):
        services.create_token(uow, "platform")


def test_pages_follow_the_cursor_and_are_stable(engine: Engine, api: TestClient) -> None:
    token = _token(engine)
    for i in range(5):
        act(engine, f"post-{i}")
        noise(engine, 3)
    record(engine, "case.decided", "case:1", {"decision_id": 1, "outcome": "violating"})
    whole = _get(api, token, limit=500).json()
    assert len(whole["events"]) == 5
    assert {e["type"] for e in whole["events"]} == {"action.applied"}
    assert set(FEED_TYPES) >= {e["type"] for e in whole["events"]}

    pages, cursor = [], ""
    while True:
        page = _get(api, token, after=cursor, limit=2).json()
        if not page["events"]:
            assert page["next_cursor"] == cursor  # nothing new: keep polling from here
            break
        pages.append(page)
        cursor = page["next_cursor"]
    assert [len(p["events"]) for p in pages] == [2, 2, 1]
    assert [e for p in pages for e in p["events"]] == whole["events"]
    assert cursor == whole["next_cursor"] == whole["events"][-1]["cursor"]

    # The same cursor gives the same page; new events come after the old cursor.
    second = pages[0]["next_cursor"]
    assert _get(api, token, after=second, limit=2).json() == pages[1]
    act(engine, "post-new")
    fresh = _get(api, token, after=cursor).json()
    assert [e["data"]["platform_item_id"] for e in fresh["events"]] == ["post-new"]
    assert _get(api, token, after=second, limit=2).json() == pages[1]


def test_type_filter_and_bad_parameters(engine: Engine, api: TestClient) -> None:
    token = _token(engine)
    act(engine, "post-1")
    record(engine, "appeal.decided", "appeal:1", {"appeal_id": 1, "outcome": "upheld"})
    only = _get(api, token, types="appeal.decided").json()
    assert [e["type"] for e in only["events"]] == ["appeal.decided"]
    both = _get(api, token, types="appeal.decided, action.applied").json()
    assert [e["type"] for e in both["events"]] == ["action.applied", "appeal.decided"]
    assert _get(api, token, limit=501).status_code == 422
    assert _get(api, token, limit=0).status_code == 422
    bad = _get(api, token, after="abc")
    assert bad.status_code == 400
    assert "cursor" in bad.json()["detail"]
    unknown = _get(api, token, types="case.decided")
    assert unknown.status_code == 400
    assert "case.decided" in unknown.json()["detail"]


@pytest.fixture
def server(engine: Engine) -> Iterator[str]:
    """The app under a real uvicorn server on a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(engine), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_a_real_server_serves_the_feed(engine: Engine, server: str) -> None:
    token = _token(engine)
    act(engine, "post-1")
    with httpx.Client(base_url=server) as client:
        assert client.get("/v1/platform/feed").status_code == 401
        response = client.get(
            "/v1/platform/feed", params={"limit": 10}, headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 200
    body = response.json()
    (event,) = body["events"]
    assert event["data"]["platform_item_id"] == "post-1"
    assert event["data"]["statement"]["text"].startswith("Statement of reasons")
    assert body["next_cursor"] == event["cursor"]
