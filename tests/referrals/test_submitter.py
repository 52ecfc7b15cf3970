"""Submitting referrals to a local fake recipient (real HTTP on 127.0.0.1): the NCMEC flow,
the Art. 18 JSON route, retries, idempotency after a lost answer, resuming, failures."""

from __future__ import annotations

import json
import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from tests.referrals.fake_authority import ACCEPT_THEN_DROP, DROP, FakeAuthority, running
from tests.referrals.schema_order import problems, reference
from tests.referrals.support import (
    NOTE,
    STAND_IN,
    Scenario,
    assert_projection,
    csam,
    events,
    referral,
    threat,
)
from vigil.policy.schema import ReferralRoute
from vigil.referrals import ncmec
from vigil.referrals.services import approve, propose
from vigil.referrals.submitter import (
    Endpoint,
    RetryPolicy,
    SubmitError,
    endpoint_from_env,
    sendable,
    submit,
)
from vigil.unit_of_work import unit_of_work

REPORTER = ncmec.Reporter(platform="Vigil test platform", email="safety@example.org")
FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)


@pytest.fixture
def fake() -> Iterator[FakeAuthority]:
    with running() as f:
        yield f


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c


def _approved(engine: Engine, sc: Scenario) -> int:
    with unit_of_work(engine) as uow:
        rid = propose(uow, sc.decision_id, "alice", sc.ctx.policy).id
    with unit_of_work(engine) as uow:
        approve(uow, rid, "lena", sc.ctx.policy)
    return rid


def _ncmec(fake: FakeAuthority) -> Endpoint:
    return Endpoint(fake.url, username="esp", password="pw")


def test_ncmec_flow_submits_uploads_held_files_and_finishes(
    engine: Engine, tmp_path: Path, fake: FakeAuthority, client: httpx.Client, shared_dir: Path
) -> None:
    rid = _approved(engine, csam(engine, tmp_path))
    assert sendable(engine) == [rid]
    result = submit(
        engine, rid, _ncmec(fake), client=client, reporter=REPORTER, sleep=lambda s: None
    )
    assert result.ok, result.reason
    assert [p for p, _, _ in fake.seen] == ["/submit", "/upload", "/fileinfo", "/finish"]
    (report,) = fake.reports.values()
    assert report.finished
    assert result.external_id == report.report_id
    assert list(report.files.values()) == [STAND_IN]  # the hash-only file is not uploaded
    ref = reference(shared_dir)
    assert problems(ET.fromstring(report.xml), ref["report"]) == []  # noqa: S314
    (details,) = report.details.values()
    root = ET.fromstring(details)  # noqa: S314
    assert problems(root, ref["fileDetails"]) == []
    assert root.findtext("fileViewedByEsp") == "true"
    got = referral(engine, rid)
    assert got.status == "submitted"
    assert got.external_id == report.report_id
    assert got.submitted_at is not None
    assert [e.type for e in events(engine, rid)][-1] == "referral.submitted"
    assert_projection(engine, rid)
    assert sendable(engine) == []
    with pytest.raises(SubmitError, match="only approved"):
        submit(engine, rid, _ncmec(fake), client=client, reporter=REPORTER)


def test_lost_answer_and_transient_errors_do_not_make_a_second_report(
    engine: Engine, tmp_path: Path, fake: FakeAuthority, client: httpx.Client
) -> None:
    rid = _approved(engine, csam(engine, tmp_path))
    # /submit: stored but the answer is lost, then 503 and a dropped line, then the repeat.
    fake.then(ACCEPT_THEN_DROP, 503, DROP, 429)
    waits: list[float] = []
    result = submit(
        engine,
        rid,
        _ncmec(fake),
        client=client,
        reporter=REPORTER,
        retry=RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.05),
        sleep=waits.append,
    )
    assert result.ok, result.reason
    assert len(fake.reports) == 1  # one report, though /submit was sent five times
    key = referral(engine, rid).submission_key
    assert fake.repeats == [key]
    submits = [k for p, k, _ in fake.seen if p == "/submit"]
    assert len(submits) == 5
    assert set(submits) == {key}
    assert len(waits) == 4
    assert waits == sorted(waits)


def test_gives_up_records_failure_then_resumes_without_repeating_steps(
    engine: Engine, tmp_path: Path, fake: FakeAuthority, client: httpx.Client
) -> None:
    rid = _approved(engine, csam(engine, tmp_path))
    # submit and upload and fileinfo go through; finish answers 500 every time.
    seen_before = len(fake.seen)
    orig = fake._work

    def finish_down(path: str, raw: bytes, ctype: str, key: str | None):  # type: ignore[no-untyped-def]
        if path == "/finish" and not getattr(fake, "up", False):
            return 500, b"down", "text/plain"
        return orig(path, raw, ctype, key)

    fake._work = finish_down  # type: ignore[method-assign]
    first = submit(
        engine,
        rid,
        _ncmec(fake),
        client=client,
        reporter=REPORTER,
        retry=FAST,
        sleep=lambda s: None,
    )
    assert not first.ok
    assert first.reason
    assert "http_500" in first.reason
    got = referral(engine, rid)
    assert got.status == "failed"
    assert got.attempts == 1
    assert got.progress["report_id"] in fake.reports
    assert_projection(engine, rid)
    fake.up = True  # type: ignore[attr-defined]
    second = submit(
        engine,
        rid,
        _ncmec(fake),
        client=client,
        reporter=REPORTER,
        retry=FAST,
        sleep=lambda s: None,
    )
    assert second.ok
    paths = [p for p, _, _ in fake.seen[seen_before:]]
    assert paths.count("/submit") == 1
    assert paths.count("/upload") == 1
    assert [e.type for e in events(engine, rid)] == [
        "referral.proposed",
        "referral.approved",
        "referral.failed",
        "referral.submitted",
    ]
    assert referral(engine, rid).status == "submitted"
    assert_projection(engine, rid)


def test_art18_route_sends_the_json_package_with_a_bearer_token_never_logged(
    engine: Engine,
    tmp_path: Path,
    fake: FakeAuthority,
    client: httpx.Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rid = _approved(engine, threat(engine, tmp_path))
    endpoint = endpoint_from_env(
        ReferralRoute.DSA_ART18,
        env={"VIGIL_REFERRAL_DSA_ART18_URL": fake.url, "VIGIL_REFERRAL_DSA_ART18_TOKEN": "tok"},
    )
    assert "tok" not in repr(endpoint)
    fake.then(502)
    with caplog.at_level(logging.DEBUG):
        result = submit(engine, rid, endpoint, client=client, retry=FAST, sleep=lambda s: None)
    assert result.ok
    assert result.external_id == "art18-1"
    (sent,) = fake.json_referrals.values()
    got = referral(engine, rid)
    assert sent["destination"] == ["europol"]
    assert sent["package_sha256"] == got.package_sha256
    assert sent["package"]["referral"]["priority"] == "P1_immediate"
    assert "i will hurt you" in sent["package"]["content"]["text"]
    assert NOTE not in json.dumps(sent)
    assert all(auth == "Bearer tok" for _, _, auth in fake.seen)
    assert "tok" not in caplog.text
    assert all("tok" not in e.body for e in events(engine, rid))


def test_refused_answer_is_a_failure_and_endpoints_must_be_https(
    engine: Engine, tmp_path: Path, fake: FakeAuthority, client: httpx.Client
) -> None:
    rid = _approved(engine, threat(engine, tmp_path))
    wrong = Endpoint(fake.url, token="wrong")
    result = submit(engine, rid, wrong, client=client, retry=FAST, sleep=lambda s: None)
    assert not result.ok
    assert result.reason == "http_401"
    assert referral(engine, rid).status == "failed"
    assert "wrong" not in "".join(e.body for e in events(engine, rid))
    with pytest.raises(SubmitError, match="must be https"):
        Endpoint("http://authority.example/api")
    with pytest.raises(SubmitError, match="VIGIL_REFERRAL_NCMEC_URL"):
        endpoint_from_env(ReferralRoute.NCMEC, env={})
