"""Figures for the transparency report: referrals by route and priority, detection to submission."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.referrals.support import csam, later, referral, threat
from vigil.referrals.services import approve, propose, record_submitted, referral_figures
from vigil.unit_of_work import unit_of_work


def test_referral_figures_by_route_and_priority(engine: Engine, tmp_path: Path) -> None:
    sc = threat(engine, tmp_path)
    with unit_of_work(engine) as uow:
        rid = propose(uow, sc.decision_id, "alice", sc.ctx.policy).id
    with unit_of_work(engine) as uow:
        approve(uow, rid, "lena", sc.ctx.policy)
    sent_clock = later(hours=2)  # past the 1 h deadline
    with unit_of_work(engine, clock=sent_clock) as uow:
        record_submitted(uow, rid, external_id="x1")
    sc2 = csam(engine, tmp_path)
    with unit_of_work(engine) as uow:
        cid = propose(uow, sc2.decision_id, "alice", sc2.ctx.policy).id
    r = referral(engine, rid)
    assert r.submitted_at is not None
    with Session(engine) as s:
        rows = referral_figures(s, r.proposed_at - timedelta(days=1), sent_clock())
    by_route = {(f.route, f.priority): f for f in rows}
    art18 = by_route[("dsa_art18", "P1_immediate")]
    assert (art18.proposed, art18.approved, art18.submitted, art18.late) == (1, 1, 1, 1)
    assert (
        art18.median_detection_to_submission_s == (r.submitted_at - r.detected_at).total_seconds()
    )
    nc = by_route[("ncmec", "P1_immediate")]
    assert (nc.proposed, nc.approved, nc.submitted) == (1, 0, 0)
    assert nc.median_detection_to_submission_s is None
    assert referral(engine, cid).detected_at <= referral(engine, cid).proposed_at
    with Session(engine) as s:
        assert referral_figures(s, r.proposed_at + timedelta(days=1), sent_clock()) == []
