"""Proposing and approving referrals on both backends: who may, what is recorded, the hold."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.referrals.support import (
    NOTE,
    STAND_IN_SHA,
    assert_projection,
    csam,
    events,
    referral,
    threat,
)
from tests.support.spine import add_bank, context, item, write_jsonl
from vigil.cases.models import Case, Outcome
from vigil.cases.services import decide
from vigil.holds.models import LegalHold
from vigil.holds.services import account_held
from vigil.ingest.services import ingest_file
from vigil.referrals.package import build_package
from vigil.referrals.services import ReferralError, approve, propose
from vigil.unit_of_work import unit_of_work


def test_propose_and_approve_records_route_priority_deadline_and_holds_data(
    engine: Engine, tmp_path: Path
) -> None:
    sc = threat(engine, tmp_path)
    with unit_of_work(engine) as uow:
        r = propose(uow, sc.decision_id, "alice", sc.ctx.policy)
        rid, proposed_at = r.id, r.proposed_at
    got = referral(engine, rid)
    assert (got.route, got.priority, got.destination) == ("dsa_art18", "P1_immediate", ["europol"])
    assert got.deadline_at == proposed_at + timedelta(hours=1)
    assert got.status == "proposed"
    with unit_of_work(engine) as uow:
        approve(uow, rid, "lena", sc.ctx.policy)
    got = referral(engine, rid)
    assert got.status == "approved"
    assert got.approved_by == "lena"
    assert got.package_sha256
    assert len(got.package_sha256) == 64
    assert got.submission_key
    assert got.hold_id is not None
    with Session(engine) as s:
        hold = s.get(LegalHold, got.hold_id)
        assert hold is not None
        assert hold.account_id == got.account_id
        assert hold.item_id is None
        assert hold.source == f"referral:{rid}"
        assert hold.legal_basis == got.legal_basis
        assert hold.expires_at - hold.placed_at == timedelta(days=183)
    with unit_of_work(engine) as uow:
        assert account_held(uow, got.account_id)
    evs = events(engine, rid)
    assert [e.type for e in evs] == ["referral.proposed", "referral.approved"]
    assert [e.actor for e in evs] == ["alice", "lena"]
    assert NOTE not in "".join(e.body for e in evs)
    assert_projection(engine, rid)
    # The stored hash is the package rebuilt later, unchanged.
    with Session(engine) as s:
        again = s.get(type(got), rid)
        assert again is not None
        assert build_package(s, again).sha256 == got.package_sha256


def test_ncmec_hold_is_a_year(engine: Engine, tmp_path: Path) -> None:
    sc = csam(engine, tmp_path)
    with unit_of_work(engine) as uow:
        rid = propose(uow, sc.decision_id, "alice", sc.ctx.policy).id
    with unit_of_work(engine) as uow:
        approve(uow, rid, "lena", sc.ctx.policy)
    got = referral(engine, rid)
    assert got.route == "ncmec"
    assert "2258A" in got.legal_basis
    with Session(engine) as s:
        hold = s.get(LegalHold, got.hold_id)
        assert hold is not None
        assert hold.expires_at - hold.placed_at == timedelta(days=365)


@pytest.mark.parametrize(
    ("approver", "message"),
    [
        ("alice", "lacks the legal_officer role"),
        ("mia", "lacks the legal_officer role"),
        ("nobody", "is not registered staff"),
        ("BOB ", "confirmed decision"),  # bob is a legal officer but confirmed it
    ],
)
def test_approval_needs_a_separate_legal_officer(
    engine: Engine, tmp_path: Path, approver: str, message: str
) -> None:
    sc = threat(engine, tmp_path)
    with unit_of_work(engine) as uow:
        rid = propose(uow, sc.decision_id, "alice", sc.ctx.policy).id
    with pytest.raises(ReferralError, match=message), unit_of_work(engine) as uow:
        approve(uow, rid, approver, sc.ctx.policy)
    got = referral(engine, rid)
    assert got.status == "proposed"
    assert got.hold_id is None
    with Session(engine) as s:
        assert s.scalars(select(LegalHold)).all() == []
    assert [e.type for e in events(engine, rid)] == ["referral.proposed"]


def test_proposer_cannot_approve_and_approval_is_once(engine: Engine, tmp_path: Path) -> None:
    sc = threat(engine, tmp_path)
    with unit_of_work(engine) as uow:
        rid = propose(uow, sc.decision_id, "lena", sc.ctx.policy).id
    with pytest.raises(ReferralError, match="proposed it"), unit_of_work(engine) as uow:
        approve(uow, rid, "Lena", sc.ctx.policy)
    with unit_of_work(engine) as uow:
        approve(uow, rid, "lars", sc.ctx.policy)
    with pytest.raises(ReferralError, match="not proposed"), unit_of_work(engine) as uow:
        approve(uow, rid, "lena", sc.ctx.policy)
    with pytest.raises(ReferralError, match="already has referral"), unit_of_work(engine) as uow:
        propose(uow, sc.decision_id, "alice", sc.ctx.policy)


def test_refused_without_final_human_violating_referable_decision(
    engine: Engine, tmp_path: Path
) -> None:
    add_bank(engine, tmp_path, "threat-terms", "term", "threat_to_life", ["i will hurt you"])
    add_bank(engine, tmp_path, "harass", "term", "harassment", ["you absolute grobnit"])
    ctx = context(engine)
    records = [
        item("t1", "[SYNTHETIC] i will hurt you", author_id="a1"),
        item("t2", "[SYNTHETIC] i will hurt you", author_id="a2"),
        item("h1", "[SYNTHETIC] you absolute grobnit", author_id="a3"),
    ]
    ingest_file(engine, write_jsonl(tmp_path / "i.jsonl", records), ctx)
    with Session(engine) as s:
        cases = {c.category + str(c.id): c.id for c in s.scalars(select(Case).order_by(Case.id))}
    threat_ids = [v for k, v in cases.items() if k.startswith("threat")]
    harass_id = next(v for k, v in cases.items() if k.startswith("harassment"))
    with unit_of_work(engine) as uow:
        awaiting = decide(
            uow,
            threat_ids[0],
            reviewer="alice",
            outcome=Outcome.VIOLATING,
            policy=ctx.policy,
            clause="threat_to_life",
        ).id
        not_violating = decide(
            uow, threat_ids[1], reviewer="alice", outcome=Outcome.NOT_VIOLATING, policy=ctx.policy
        ).id
        harassment = decide(
            uow,
            harass_id,
            reviewer="alice",
            outcome=Outcome.VIOLATING,
            policy=ctx.policy,
            clause="harassment",
        ).id
    for decision_id, message in [
        (awaiting, "not final"),
        (not_violating, "only a violating decision"),
        (harassment, "'harassment' is not referable"),
        (999, "no decision #999"),
    ]:
        with pytest.raises(ReferralError, match=message), unit_of_work(engine) as uow:
            propose(uow, decision_id, "alice", ctx.policy)
    with pytest.raises(ReferralError, match="proposer"), unit_of_work(engine) as uow:
        propose(uow, awaiting, "  ", ctx.policy)


def test_package_is_deterministic_and_keeps_custody(engine: Engine, tmp_path: Path) -> None:
    sc = csam(engine, tmp_path)
    with unit_of_work(engine) as uow:
        rid = propose(uow, sc.decision_id, "alice", sc.ctx.policy).id
    with unit_of_work(engine) as uow:
        approve(uow, rid, "lena", sc.ctx.policy)
    with Session(engine) as s:
        r = s.get(type(referral(engine, rid)), rid)
        assert r is not None
        first, second = build_package(s, r), build_package(s, r)
    assert first.manifest_bytes() == second.manifest_bytes()
    assert first.sha256 == r.package_sha256
    m = first.manifest
    custody = m["chain_of_custody"]
    assert next(f["sha256"] for f in custody["files"]) == STAND_IN_SHA
    steps = [(h["step"], h["actor"]) for h in custody["handling"]]
    assert steps == [
        ("evidence.viewed", "alice"),
        ("decided", "alice"),
        ("confirmed", "bob"),
        ("referral.proposed", "alice"),
        ("referral.approved", "lena"),
    ]
    assert all(h["at"].endswith("+00:00") for h in custody["handling"])
    assert all(t is None or t.endswith("+00:00") for t in m["times"].values())
    assert m["identifiers"]["platform_account_id"] == "acct-c1"
    assert {s["kind"] for s in m["reasoning"]["signals"]} == {"sha256"}
    assert m["reasoning"]["signals"][0]["bank"] == "csam-hashes"
    assert NOTE not in first.manifest_bytes().decode()
    held = [f for f in first.files if f.data is not None]
    assert len(held) == 1
    assert len(first.files) == 2


def test_approval_refused_when_the_active_policy_no_longer_refers_the_category(
    engine: Engine, tmp_path: Path
) -> None:
    sc = threat(engine, tmp_path)
    with unit_of_work(engine) as uow:
        rid = propose(uow, sc.decision_id, "alice", sc.ctx.policy).id
    policy = sc.ctx.policy
    changed = policy.model_copy(
        update={
            "categories": {
                **policy.categories,
                "threat_to_life": policy.category("threat_to_life").model_copy(
                    update={"referral": None}
                ),
            }
        }
    )
    with pytest.raises(ReferralError, match="no longer referable"), unit_of_work(engine) as uow:
        approve(uow, rid, "lena", changed)
    assert referral(engine, rid).status == "proposed"
