"""The intake API on both backends: tokens, acknowledgement, refusals with codes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.authorities.support import add_account, body, events
from vigil.authorities.views import create_app
from vigil.platform import services as platform
from vigil.unit_of_work import unit_of_work


def _token(engine: Engine, name: str) -> str:
    with unit_of_work(engine) as uow:
        return platform.create_token(uow, name)[1]


@pytest.fixture
def api(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine)) as client:
        yield client


def test_intake_by_api(engine: Engine, api: TestClient) -> None:
    add_account(engine, "acct-suspect", "suspect")
    token = _token(engine, "bka-portal")
    auth = {"Authorization": f"Bearer {token}"}
    assert api.post("/v1/authorities/requests", json=body()).status_code == 401
    bad = {"Authorization": "Bearer vgl_nope"}
    assert api.post("/v1/authorities/requests", json=body(), headers=bad).status_code == 401

    made = api.post("/v1/authorities/requests", json=body(), headers=auth)
    assert made.status_code == 201, made.text
    out = made.json()
    assert (out["status"], out["verified"], out["refusals"]) == ("acknowledged", False, [])
    assert out["acknowledged_at"] is not None

    broad = api.post(
        "/v1/authorities/requests",
        json=body(targets=[{"identifier_type": "search_term", "value": "bomb"}]),
        headers=auth,
    ).json()
    assert broad["status"] == "refused"
    assert broad["refusals"][0]["code"] == "broad_target"
    assert "search_term" in broad["refusals"][0]["message"]

    malformed = api.post("/v1/authorities/requests", json=body(kind="fishing"), headers=auth)
    assert malformed.status_code == 422

    seen = api.get(f"/v1/authorities/requests/{out['id']}", headers=auth)
    assert seen.json()["status"] == "acknowledged"
    # Another caller cannot look at it.
    other = {"Authorization": f"Bearer {_token(engine, 'other')}"}
    assert api.get(f"/v1/authorities/requests/{out['id']}", headers=other).status_code == 404
    received = events(engine, "authority_request.received")
    assert {e[2]["targets"] for e in received} == {1}
    assert all(e[2]["request_id"] for e in received)
