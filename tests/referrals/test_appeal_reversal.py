"""A decision reversed on appeal: an unsent referral is withdrawn, a sent one is flagged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.referrals.support import assert_projection, events, referral, threat
from vigil.appeals import services as appeals
from vigil.holds.services import account_held
from vigil.policy.schema import Policy
from vigil.referrals.services import ReferralError, approve, propose, record_submitted
from vigil.referrals.submitter import sendable
from vigil.unit_of_work import unit_of_work


def _reverse_on_appeal(engine: Engine, decision_id: int, policy: Policy) -> int:
    with unit_of_work(engine) as uow:
        appeal = appeals.file(
            uow,
            decision_id=decision_id,
            appellant="acct-t1",
            appellant_kind="affected_user",
            reason="it was a quote from a film",
            policy=policy,
        )
    with unit_of_work(engine) as uow:
        appeals.claim(uow, appeal.id, "carol", policy)
        appeals.decide(
            uow,
            appeal.id,
            reviewer="carol",
            outcome="reversed",
            reasoning="Quoted from a film, not a threat.",
            policy=policy,
        )
        return appeal.id


def test_an_unsent_referral_is_withdrawn_and_never_sent(engine: Engine, tmp_path: Path) -> None:
    sc = threat(engine, tmp_path)
    with unit_of_work(engine) as uow:
        rid = propose(uow, sc.decision_id, "alice", sc.ctx.policy).id
    with unit_of_work(engine) as uow:
        approve(uow, rid, "lena", sc.ctx.policy)
    assert sendable(engine) == [rid]
    appeal_id = _reverse_on_appeal(engine, sc.decision_id, sc.ctx.policy)
    assert referral(engine, rid).status == "withdrawn"
    assert sendable(engine) == []
    assert_projection(engine, rid)
    (last,) = [e for e in events(engine, rid) if e.type == "referral.withdrawn"]
    assert json.loads(last.body)["payload"] == {"referral_id": rid, "appeal_id": appeal_id}
    with unit_of_work(engine) as uow, pytest.raises(ReferralError):
        approve(uow, rid, "lars", sc.ctx.policy)


def test_a_sent_referral_is_flagged_for_the_legal_officer(engine: Engine, tmp_path: Path) -> None:
    sc = threat(engine, tmp_path)
    with unit_of_work(engine) as uow:
        rid = propose(uow, sc.decision_id, "alice", sc.ctx.policy).id
    with unit_of_work(engine) as uow:
        approve(uow, rid, "lena", sc.ctx.policy)
    with unit_of_work(engine) as uow:
        record_submitted(uow, rid, external_id="EUROPOL-1")
    appeal_id = _reverse_on_appeal(engine, sc.decision_id, sc.ctx.policy)
    assert referral(engine, rid).status == "submitted"
    flagged = [e for e in events(engine, rid) if e.type == "referral.decision_reversed"]
    assert [json.loads(e.body)["payload"]["appeal_id"] for e in flagged] == [appeal_id]
    with unit_of_work(engine) as uow:  # the hold placed by the referral stays
        assert account_held(uow, referral(engine, rid).account_id)
