"""The status reducer, what a configured "other" route may receive, and who counts as a person."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.referrals.fake_authority import FakeAuthority, running
from tests.referrals.support import THREAT, staff
from tests.support.spine import add_bank, context, item, write_jsonl
from vigil.cases.models import Case, Outcome
from vigil.cases.services import decide, view
from vigil.ingest.services import ingest_file
from vigil.policy.defaults import default_policy_text
from vigil.referrals.models import Referral, ReferralStatus
from vigil.referrals.package import build_package
from vigil.referrals.reducer import InvalidTransitionError, apply, referral_status
from vigil.referrals.services import approve, propose
from vigil.referrals.submitter import Endpoint, RetryPolicy, submit
from vigil.unit_of_work import unit_of_work

S = ReferralStatus


def test_reducer_follows_the_steps_and_refuses_skips() -> None:
    steps = ["referral.proposed", "referral.approved", "referral.failed", "referral.submitted"]
    assert referral_status([(t, {}) for t in steps]) is S.SUBMITTED
    assert referral_status([(t, {}) for t in steps[:3]]) is S.FAILED
    assert referral_status([("hold.placed", {})]) is None
    for state, event in [
        (None, "referral.approved"),
        (S.PROPOSED, "referral.submitted"),
        (S.SUBMITTED, "referral.failed"),
        (S.APPROVED, "referral.proposed"),
    ]:
        with pytest.raises(InvalidTransitionError):
            apply(state, event, {})


HARASS_REFERRAL = """    strike: {weight: 2, expires: 180d}
    referral:
      route: other
      priority: P3_without_undue_delay
      deadline: 7d
      hold: 90d
      legal_basis: Agreement with the national hotline
"""


@pytest.fixture
def fake() -> Iterator[FakeAuthority]:
    with running() as f:
        yield f


def test_other_route_gets_no_text_and_no_file_bytes(
    engine: Engine, tmp_path: Path, fake: FakeAuthority
) -> None:
    text = default_policy_text()
    marker = "    strike: {weight: 2, expires: 180d}\n\n  spam:"
    assert text.count(marker) == 1
    policy_path = tmp_path / "policy.yaml"
    policy_path.write_text(text.replace(marker, HARASS_REFERRAL + "\n  spam:"))
    add_bank(engine, tmp_path, "harass", "term", "harassment", ["you absolute grobnit"])
    ctx = context(engine, policy_path)
    words = "[SYNTHETIC] you absolute grobnit"
    ingest_file(engine, write_jsonl(tmp_path / "h.jsonl", [item("h1", words)]), ctx)
    staff(engine)
    with Session(engine) as s:
        case_id = s.scalars(select(Case.id)).one()
    with unit_of_work(engine) as uow:
        # A view by Vigil itself is not a person opening the evidence.
        view(uow, case_id, reviewer="system")
    with unit_of_work(engine) as uow:
        d = decide(
            uow,
            case_id,
            reviewer="alice",
            outcome=Outcome.VIOLATING,
            policy=ctx.policy,
            clause="harassment",
        )
        rid = propose(uow, d.id, "alice", ctx.policy).id
    with unit_of_work(engine) as uow:
        approve(uow, rid, "lena", ctx.policy)
    with Session(engine) as s:
        r = s.get(Referral, rid)
        assert r is not None
        package = build_package(s, r)
    content = package.manifest["content"]
    assert content["text"] is None
    assert content["urls"] == []
    assert content["text_sha256"]  # the content is still identified, by hash
    assert "grobnit" not in package.manifest_bytes().decode()
    steps = [h["step"] for h in package.manifest["chain_of_custody"]["handling"]]
    assert "evidence.viewed" not in steps
    fake.retry_after = "7"
    fake.then(429)
    waits: list[float] = []
    with httpx.Client(timeout=5) as client:
        result = submit(
            engine,
            rid,
            Endpoint(fake.url, token="tok"),
            client=client,
            retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=10),
            sleep=waits.append,
        )
    assert result.ok
    assert waits == [7.0]  # Retry-After replaced the backoff
    (sent,) = fake.json_referrals.values()
    assert "grobnit" not in str(sent)
    assert THREAT not in str(sent)
