"""The submitter against a local fake of the transparency database: every documented answer."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.statements.fake_tdb import (
    ACCEPT_THEN_DROP,
    DROP,
    DuplicateForm,
    FakeTransparencyDatabase,
    Step,
    running,
)
from tests.statements.seed import NOW, seed_statements, set_body, stored
from tests.statements.sor_checker import SchemaChecker
from vigil.audit.models import Event
from vigil.audit.services import as_reducer_input, verify
from vigil.statements.models import StatementOfReasons
from vigil.statements.reducer import submission_state
from vigil.statements.submitter import RetryPolicy, SubmitError, SubmitReport, Submitter, base_url

TOKEN = "tdb-test-token"


class SimulatedCrashError(Exception):
    pass


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _submit(
    engine: Engine, fake: FakeTransparencyDatabase, sleeps: Sleeps | None = None, **options: Any
) -> SubmitReport:
    options.setdefault("jitter", lambda: 1.0)
    options.setdefault("clock", lambda: NOW)
    with Submitter(
        engine, fake.url, options.pop("token", TOKEN), sleep=sleeps or Sleeps(), **options
    ) as submitter:
        return submitter.run()


def _rows(engine: Engine) -> dict[str, StatementOfReasons]:
    with Session(engine) as s:
        return {r.puid: r for r in s.scalars(select(StatementOfReasons))}


def _events(engine: Engine, kind: str) -> list[dict[str, Any]]:
    with Session(engine) as s:
        rows = s.scalars(select(Event).where(Event.type == kind).order_by(Event.seq))
        return [json.loads(r.body)["payload"] for r in rows]


def _assert_projection_matches_events(engine: Engine) -> None:
    """The submission columns equal what the reducer derives from each statement's events."""
    with Session(engine) as s:
        for row in s.scalars(select(StatementOfReasons)):
            events = s.scalars(
                select(Event).where(Event.subject == f"statement:{row.id}").order_by(Event.seq)
            )
            state = submission_state(as_reducer_input(events))
            assert state is not None
            assert (state.status, state.uuid) == (row.submission_status, row.tdb_uuid)
            if row.rejected_fields is not None:
                assert list(state.rejected_fields or ()) == row.rejected_fields
        assert verify(s).ok


def _batch_sizes(fake: FakeTransparencyDatabase) -> list[int]:
    return [len(r.puids) for r in fake.batch_requests]


# -- 201 -----------------------------------------------------------------------


def test_250_pending_go_in_three_batches_and_are_marked_with_their_uuids(
    engine: Engine, tdb: FakeTransparencyDatabase
) -> None:
    puids = seed_statements(engine, 250)
    report = _submit(engine, tdb)
    assert _batch_sizes(tdb) == [100, 100, 50]
    assert [p for r in tdb.batch_requests for p in r.puids] == puids
    assert report.ok
    assert report.left_pending == 0
    assert len(report.submitted) == 250
    rows = _rows(engine)
    for puid in puids:
        assert rows[puid].submission_status == "submitted"
        # The fake answers in reverse order: uuids must be matched by PUID, not position.
        assert rows[puid].tdb_uuid == tdb.held[puid]["uuid"]
        assert rows[puid].submitted_at == NOW
    events = _events(engine, "statement.submitted")
    assert events == [{"puid": p, "uuid": tdb.held[p]["uuid"]} for p in puids]
    _assert_projection_matches_events(engine)

    again = _submit(engine, tdb)
    assert again.requests == 0
    assert len(tdb.batch_requests) == 3


def test_every_submitted_body_passes_the_reference_schema(
    engine: Engine, tdb: FakeTransparencyDatabase, sor_checker: SchemaChecker
) -> None:
    seed_statements(engine, 3)
    _submit(engine, tdb)
    assert len(tdb.held) == 3
    for record in tdb.held.values():
        body = {k: v for k, v in record.items() if k not in _SERVER_FIELDS}
        assert sor_checker.check(body) == []


_SERVER_FIELDS = {"uuid", "created_at", "platform_name", "self", "permalink"}


# -- 422 -------------------------------------------------------------------------


def test_field_errors_reject_those_statements_and_the_rest_are_resubmitted(
    engine: Engine, tdb: FakeTransparencyDatabase
) -> None:
    puids = seed_statements(engine, 5)
    # Valid for us, refused by the database (a rule we do not know of): two bodies.
    for puid in (puids[1], puids[3]):
        tdb.refuse[puid] = {"incompatible_content_explanation": ["The text is not allowed."]}
    report = _submit(engine, tdb)
    assert report.rejected == {
        puids[1]: ["incompatible_content_explanation"],
        puids[3]: ["incompatible_content_explanation"],
    }
    assert [r.puids for r in tdb.batch_requests] == [puids, [puids[0], puids[2], puids[4]]]
    assert [r.status for r in tdb.batch_requests] == [422, 201]
    rows = _rows(engine)
    assert rows[puids[1]].submission_status == "rejected"
    assert rows[puids[1]].rejected_fields == ["incompatible_content_explanation"]
    assert {p for p, r in rows.items() if r.submission_status == "submitted"} == {
        puids[0],
        puids[2],
        puids[4],
    }
    assert _events(engine, "statement.rejected") == [
        {"puid": puids[1], "fields": ["incompatible_content_explanation"]},
        {"puid": puids[3], "fields": ["incompatible_content_explanation"]},
    ]
    assert not report.ok
    _assert_projection_matches_events(engine)
    # A rejected statement is not sent again.
    assert _submit(engine, tdb).requests == 0


@pytest.mark.parametrize("form", ["existing", "existing_puids", "per_statement"])
def test_a_puid_the_database_already_holds_counts_as_submitted(
    engine: Engine, sor_checker: SchemaChecker, form: DuplicateForm
) -> None:
    puids = seed_statements(engine, 5)
    with running(sor_checker, duplicate_form=form) as fake:
        # An earlier run was accepted for two of them, but never recorded here.
        fake._store([stored(engine, p).body for p in (puids[0], puids[3])])
        earlier = {p: fake.held[p]["uuid"] for p in (puids[0], puids[3])}
        report = _submit(engine, fake)
        assert report.already_held == earlier
        assert set(report.submitted) == {puids[1], puids[2], puids[4]}
        assert [r.status for r in fake.batch_requests] == [422, 201]
        assert fake.batch_requests[1].puids == [puids[1], puids[2], puids[4]]
        rows = _rows(engine)
        assert all(r.submission_status == "submitted" for r in rows.values())
        assert {p: rows[p].tdb_uuid for p in earlier} == earlier
        assert len(fake.held) == 5
        submitted = _events(engine, "statement.submitted")
        assert sorted(e["puid"] for e in submitted) == sorted(puids)
        assert {e["puid"]: e["uuid"] for e in submitted} == {p: fake.held[p]["uuid"] for p in puids}
    _assert_projection_matches_events(engine)


def test_duplicates_and_field_errors_in_one_answer(
    engine: Engine, sor_checker: SchemaChecker
) -> None:
    puids = seed_statements(engine, 4)
    with running(sor_checker, duplicate_form="per_statement") as fake:
        fake.refuse[puids[2]] = {"incompatible_content_explanation": ["Not allowed."]}
        fake._store([stored(engine, puids[0]).body])
        report = _submit(engine, fake)
    assert set(report.already_held) == {puids[0]}
    assert report.rejected == {puids[2]: ["incompatible_content_explanation"]}
    assert set(report.submitted) == {puids[1], puids[3]}
    _assert_projection_matches_events(engine)


# -- 429 and 5xx ---------------------------------------------------------------


def test_rate_limits_wait_as_told_then_back_off(
    engine: Engine, tdb: FakeTransparencyDatabase
) -> None:
    seed_statements(engine, 2)
    later = format_datetime(NOW + timedelta(seconds=42), usegmt=True)
    tdb.then(Step(429, retry_after="7"), Step(429, retry_after=later), Step(429))
    sleeps = Sleeps()
    report = _submit(engine, tdb, sleeps)
    assert sleeps.waits == [7.0, 42.0, 4.0]  # third wait: backoff for the 3rd try, 1 * 2**2
    assert report.ok
    assert len(report.submitted) == 2
    assert [r.status for r in tdb.batch_requests] == [429, 429, 429, 201]


def test_server_errors_back_off_exponentially_with_jitter_and_a_cap(
    engine: Engine, tdb: FakeTransparencyDatabase
) -> None:
    seed_statements(engine, 1)
    tdb.then(500, 502, 503, DROP, 504)
    sleeps = Sleeps()
    retry = RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=5.0)
    report = _submit(engine, tdb, sleeps, retry=retry, jitter=lambda: 0.0)
    assert sleeps.waits == [
        0.5,
        1.0,
        2.0,
        2.5,
        2.5,
    ]  # half fixed, half jitter (0 here), capped at 5
    assert report.ok
    assert len(report.submitted) == 1

    seed_statements(engine, 1)
    tdb.then(503)
    sleeps = Sleeps()
    _submit(engine, tdb, sleeps, retry=retry, jitter=lambda: 1.0)
    assert sleeps.waits == [1.0]


def test_a_long_retry_after_is_capped(engine: Engine, tdb: FakeTransparencyDatabase) -> None:
    seed_statements(engine, 1)
    tdb.then(Step(429, retry_after="86400"), Step(429, retry_after="soon"))
    sleeps = Sleeps()
    _submit(engine, tdb, sleeps, retry=RetryPolicy(max_retry_after=30.0))
    assert sleeps.waits == [30.0, 2.0]  # capped; an unreadable header falls back to backoff


def test_a_rate_limit_that_never_lifts_is_left_for_the_next_run(
    engine: Engine, tdb: FakeTransparencyDatabase
) -> None:
    seed_statements(engine, 1)
    tdb.then(*([429] * 3))
    report = _submit(engine, tdb, retry=RetryPolicy(max_rate_limited=2))
    assert report.gave_up == "still rate-limited after 2 wait(s)"
    assert report.left_pending == 1


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (422, "HTTP 422 that names no statement; the batch stays pending"),
        (404, "unexpected HTTP 404 from the transparency database"),
        (400, "unexpected HTTP 400 from the transparency database"),
    ],
)
def test_an_answer_the_submitter_cannot_act_on_stops_the_run(
    engine: Engine, tdb: FakeTransparencyDatabase, status: int, reason: str
) -> None:
    seed_statements(engine, 2)
    tdb.then(status)
    report = _submit(engine, tdb)
    assert report.gave_up == reason
    assert report.requests == 1
    assert report.left_pending == 2
    assert _events(engine, "statement.submitted") == []


def test_a_database_that_stays_down_is_left_for_the_next_run(
    engine: Engine, tdb: FakeTransparencyDatabase
) -> None:
    puids = seed_statements(engine, 3)
    tdb.then(*([503] * 4))
    report = _submit(engine, tdb, retry=RetryPolicy(max_attempts=4))
    assert report.gave_up == "HTTP 503 after 4 attempt(s)"
    assert report.left_pending == 3
    assert report.submitted == {}
    assert all(r.submission_status == "pending" for r in _rows(engine).values())
    assert _events(engine, "statement.submitted") == []
    assert tdb.held == {}

    report = _submit(engine, tdb)
    assert set(report.submitted) == set(puids)
    assert report.left_pending == 0


def test_an_unreachable_database_gives_up_after_the_attempts(engine: Engine) -> None:
    seed_statements(engine, 1)
    sleeps = Sleeps()
    with Submitter(
        engine, "http://127.0.0.1:9", TOKEN, sleep=sleeps, retry=RetryPolicy(max_attempts=3)
    ) as submitter:
        report = submitter.run()
    assert report.gave_up is not None
    assert report.gave_up.startswith("connection error (ConnectError) after 3 attempt(s)")
    assert len(sleeps.waits) == 2
    assert report.left_pending == 1


def test_state_is_committed_batch_by_batch(engine: Engine, tdb: FakeTransparencyDatabase) -> None:
    puids = seed_statements(engine, 150)
    # The first batch goes through; the second meets an outage that outlasts the run.
    tdb.then(Step(), 503, 503, 503)
    report = _submit(engine, tdb, retry=RetryPolicy(max_attempts=3))
    assert set(report.submitted) == set(puids[:100])
    assert report.left_pending == 50
    rows = _rows(engine)
    assert all(rows[p].submission_status == "submitted" for p in puids[:100])
    assert all(rows[p].submission_status == "pending" for p in puids[100:])

    report = _submit(engine, tdb)
    assert tdb.batch_requests[-1].puids == puids[100:]
    assert set(report.submitted) == set(puids[100:])
    assert report.left_pending == 0
    assert _batch_sizes(tdb) == [100, 50, 50, 50, 50]


# -- crashes and restarts -------------------------------------------------------


def test_an_answer_lost_after_acceptance_is_recognised_as_done(
    engine: Engine, tdb: FakeTransparencyDatabase
) -> None:
    puids = seed_statements(engine, 3)
    tdb.then(ACCEPT_THEN_DROP)
    report = _submit(engine, tdb)
    assert [r.status for r in tdb.batch_requests] == [None, 422]
    assert report.already_held == {p: tdb.held[p]["uuid"] for p in puids}
    assert len(tdb.held) == 3
    assert {p: r.tdb_uuid for p, r in _rows(engine).items()} == {
        p: tdb.held[p]["uuid"] for p in puids
    }
    assert len(_events(engine, "statement.submitted")) == 3


def test_a_crash_between_acceptance_and_commit_loses_and_doubles_nothing(
    engine: Engine, tdb: FakeTransparencyDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    puids = seed_statements(engine, 120)

    def crash(self: Submitter, *args: Any) -> None:
        raise SimulatedCrashError("the process dies before the local commit")

    monkeypatch.setattr(Submitter, "_mark_submitted", crash)
    with pytest.raises(SimulatedCrashError):
        _submit(engine, tdb)
    assert len(tdb.held) == 100  # the database took the first batch
    assert all(r.submission_status == "pending" for r in _rows(engine).values())
    assert _events(engine, "statement.submitted") == []

    monkeypatch.undo()
    report = _submit(engine, tdb)
    assert set(report.already_held) == set(puids[:100])
    assert set(report.submitted) == set(puids[100:])
    assert len(tdb.held) == 120  # nothing created twice
    rows = _rows(engine)
    assert {p: rows[p].tdb_uuid for p in puids} == {p: tdb.held[p]["uuid"] for p in puids}
    submitted = _events(engine, "statement.submitted")
    assert sorted(e["puid"] for e in submitted) == sorted(puids)  # once each
    _assert_projection_matches_events(engine)


# -- our own checks, tokens, endpoints ---------------------------------------------


def test_a_statement_that_fails_our_checks_is_not_sent(
    engine: Engine, tdb: FakeTransparencyDatabase
) -> None:
    puids = seed_statements(engine, 3)
    set_body(engine, puids[1], decision_facts="")
    report = _submit(engine, tdb)
    assert [(p.puid, p.field) for p in report.invalid] == [(puids[1], "decision_facts")]
    assert tdb.batch_requests[0].puids == [puids[0], puids[2]]
    assert _rows(engine)[puids[1]].submission_status == "pending"
    assert report.left_pending == 1
    assert not report.ok


def test_a_refused_token_stops_the_run_and_is_never_revealed(
    engine: Engine, tdb: FakeTransparencyDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    seed_statements(engine, 2)
    secret = "wrong-secret-token-5512"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SubmitError) as raised:
        _submit(engine, tdb, token=secret)
    assert str(raised.value) == "the transparency database refused the token (HTTP 401)"
    assert tdb.batch_requests[0].status == 401
    assert all(r.submission_status == "pending" for r in _rows(engine).values())
    assert secret not in caplog.text
    assert secret not in repr(raised.value)
    with Submitter(engine, tdb.url, secret) as submitter:
        assert secret not in repr(submitter)


def test_the_token_is_sent_as_a_bearer_and_never_logged_or_stored(
    engine: Engine, tdb: FakeTransparencyDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    seed_statements(engine, 2)
    caplog.set_level(logging.DEBUG)
    tdb.then(503, 429)
    report = _submit(engine, tdb)
    assert report.ok
    assert {r.authorization for r in tdb.seen} == {f"Bearer {TOKEN}"}
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(report)
    with Session(engine) as s:
        assert all(TOKEN not in e.body for e in s.scalars(select(Event)))


def test_the_endpoint_is_read_with_or_without_the_batch_path() -> None:
    assert base_url("https://tdb.example/") == "https://tdb.example"
    assert base_url("https://tdb.example/api/v1/statements") == "https://tdb.example"
    assert base_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    for bad in ("tdb.example", "ftp://tdb.example", ""):
        with pytest.raises(ValueError, match="endpoint"):
            base_url(bad)


def test_batches_are_never_larger_than_100(engine: Engine) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        Submitter(engine, "https://tdb.example", TOKEN, batch_size=101)
    with pytest.raises(ValueError, match="token"):
        Submitter(engine, "https://tdb.example", "")


def test_the_fake_follows_the_documented_answers(
    engine: Engine, tdb: FakeTransparencyDatabase
) -> None:
    [puid] = seed_statements(engine, 1)
    body = stored(engine, puid).body
    auth = {"Authorization": f"Bearer {TOKEN}"}
    url = tdb.url + "/api/v1/statements"
    with httpx.Client() as client:
        assert client.get(tdb.url + "/api/ping", headers=auth).json()["i_say"] == "pong"
        assert client.post(url, json={"statements": [body]}).status_code == 401
        assert client.post(url, json={"statements": []}, headers=auth).status_code == 422
        broken = {**body, "content_type": []}
        answer = client.post(url, json={"statements": [body, broken]}, headers=auth)
        assert answer.status_code == 422
        assert list(answer.json()["errors"]) == ["statement_1"]
        assert "content_type" in answer.json()["errors"]["statement_1"]
        assert tdb.held == {}  # all or nothing
        created = client.post(url, json={"statements": [body]}, headers=auth)
        assert created.status_code == 201
        uuid = created.json()["statements"][0]["uuid"]
        again = client.post(url, json={"statements": [body]}, headers=auth)
        assert again.status_code == 422
        assert again.json()["errors"]["existing_puids"] == [puid]
        assert again.json()["existing"]["uuid"] == uuid
        found = client.get(tdb.url + f"/api/v1/statement/existing-puid/{puid}", headers=auth)
        assert (found.status_code, found.json()["uuid"]) == (302, uuid)
        missing = client.get(tdb.url + "/api/v1/statement/existing-puid/nope", headers=auth)
        assert missing.status_code == 404
