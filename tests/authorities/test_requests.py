"""Requests move through their safeguards on both backends, every step an event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.authorities.support import T0, FakeClock, add_account, add_staff, body, events, policy
from vigil.actions.models import Action
from vigil.authorities import services
from vigil.authorities.models import AuthorityRequest, RequestStatus
from vigil.authorities.production import produce
from vigil.authorities.reducer import request_status
from vigil.authorities.schemas import RequestIn
from vigil.holds.services import account_held, holds_for
from vigil.items.models import Item
from vigil.staff.services import StaffError
from vigil.statements.models import StatementOfReasons
from vigil.unit_of_work import unit_of_work


def _intake(engine: Engine, clock: FakeClock, **over: object) -> int:
    with unit_of_work(engine, clock=clock) as uow:
        req = services.intake(
            uow, RequestIn.model_validate(body(**over)), policy=policy(), by="token:portal"
        )
        return req.id


def _status(engine: Engine, request_id: int) -> str:
    with Session(engine) as s:
        req = s.get(AuthorityRequest, request_id)
        assert req is not None
        return req.status


def _verify(engine: Engine, clock: FakeClock, rid: int, by: str = "lena") -> None:
    with unit_of_work(engine, clock=clock) as uow:
        services.verify(
            uow, rid, method="callback_to_published_switchboard", by=by, evidence_ref="call-77"
        )


def test_targeted_request_is_verified_approved_produced_and_the_user_told(engine: Engine) -> None:
    add_staff(engine)
    add_account(engine, "acct-suspect", "suspect", created=T0.replace(month=9, day=5))
    clock = FakeClock()
    rid = _intake(engine, clock)
    assert _status(engine, rid) == "acknowledged"
    # Not yet verified: neither approval nor production is possible.
    with (
        unit_of_work(engine, clock=clock) as uow,
        pytest.raises(services.AuthorityError, match="unverified"),
    ):
        services.approve(uow, rid, by="lena")
    with (
        unit_of_work(engine, clock=clock) as uow,
        pytest.raises(services.AuthorityError, match="not verified and approved"),
    ):
        produce(uow, rid, by="lena")
    clock.advance(minutes=30)
    with unit_of_work(engine, clock=clock) as uow, pytest.raises(StaffError, match="legal_officer"):
        services.verify(uow, rid, method="known_contact", by="mo", evidence_ref="x")
    _verify(engine, clock, rid)
    with unit_of_work(engine, clock=clock) as uow:
        services.approve(uow, rid, by="omar")
    clock.advance(hours=1)
    with unit_of_work(engine, clock=clock) as uow:
        done = produce(uow, rid, by="lena")
    assert [a["platform_account_id"] for a in done.package["accounts"]] == ["acct-suspect"]
    assert done.package["categories"] == ["content", "subscriber_basic"]
    assert len(done.production.package_sha256) == 64
    assert _status(engine, rid) == "produced"
    log = events(engine, "authority_request.")
    assert [t for t, _, _ in log] == [
        "authority_request.received",
        "authority_request.acknowledged",
        "authority_request.verified",
        "authority_request.approved",
        "authority_request.produced",
        "authority_request.user_notified",
    ]
    assert request_status((t, p) for t, _, p in log) is RequestStatus.PRODUCED
    received = log[0][2]
    assert received["targets"] == 1
    assert "acct-suspect" not in str(received)
    assert log[4][2]["package_sha256"] == done.production.package_sha256
    assert log[5][2]["account_ids"] == done.production.account_ids


@pytest.mark.parametrize(
    ("over", "code"),
    [
        ({"targets": [{"identifier_type": "username", "value": "*"}]}, "broad_target"),
        ({"targets": [{"identifier_type": "hashtag", "value": "#protest"}]}, "broad_target"),
        ({"targets": []}, "no_targets"),
        ({"instrument": None}, "no_legal_instrument"),
        ({"time_range": None}, "no_date_range"),
        (
            {"targets": [{"identifier_type": "account_id", "value": f"a{n}"} for n in range(11)]},
            "too_many_targets",
        ),
    ],
)
def test_over_broad_requests_are_stored_and_refused_with_a_code(
    engine: Engine, over: dict[str, object], code: str
) -> None:
    add_staff(engine)
    add_account(engine, "acct-suspect", "suspect")
    clock = FakeClock()
    rid = _intake(engine, clock, **over)
    assert _status(engine, rid) == "refused"
    refused = events(engine, "authority_request.refused")
    assert refused[0][2]["reason_code"] == code
    with unit_of_work(engine, clock=clock) as uow:
        assert services.refusals_of(uow, rid)[0] == code
        with pytest.raises(services.AuthorityError, match="refused"):
            services.verify(uow, rid, method="known_contact", by="lena", evidence_ref="x")
    # A refused request matched nothing, so nothing could ever reach an account.
    with Session(engine) as s:
        assert services.named_account_ids(s, rid) == []


def test_failed_verification_refuses(engine: Engine) -> None:
    add_staff(engine)
    add_account(engine, "acct-suspect", "suspect")
    clock = FakeClock()
    rid = _intake(engine, clock)
    with unit_of_work(engine, clock=clock) as uow:
        services.verify(
            uow, rid, method="domain_dkim_check", by="lena", evidence_ref="dkim-fail", genuine=False
        )
    assert _status(engine, rid) == "refused"
    assert events(engine, "authority_request.refused")[0][2]["reason_code"] == "verification_failed"
    with unit_of_work(engine, clock=clock) as uow, pytest.raises(services.AuthorityError):
        services.verify(uow, rid, method="nonsense", by="lena", evidence_ref="x")


def test_emergency_disclosure_needs_good_faith_and_two_legal_officers(engine: Engine) -> None:
    add_staff(engine)
    add_account(engine, "acct-suspect", "suspect", created=T0.replace(month=9, day=5))
    clock = FakeClock()
    rid = _intake(
        engine, clock, kind="emergency_disclosure", instrument="US_2702_EMERGENCY_REQUEST"
    )
    _verify(engine, clock, rid)
    with (
        unit_of_work(engine, clock=clock) as uow,
        pytest.raises(services.AuthorityError, match="good-faith"),
    ):
        services.approve(uow, rid, by="lena")
    with unit_of_work(engine, clock=clock) as uow:
        services.approve(uow, rid, by="lena", good_faith_reason="threat to a named person tonight")
    assert _status(engine, rid) == "awaiting_second_approval"
    with (
        unit_of_work(engine, clock=clock) as uow,
        pytest.raises(services.AuthorityError, match="not verified and approved"),
    ):
        produce(uow, rid, by="lena")
    with (
        unit_of_work(engine, clock=clock) as uow,
        pytest.raises(services.AuthorityError, match="different person"),
    ):
        services.approve(uow, rid, by=" LENA ")
    with unit_of_work(engine, clock=clock) as uow, pytest.raises(StaffError):
        services.approve(uow, rid, by="mo")
    with unit_of_work(engine, clock=clock) as uow:
        services.approve(uow, rid, by="omar")
        produce(uow, rid, by="omar")
    approvals = events(engine, "authority_request.approved")
    assert [(p["approver"], p["complete"]) for _, _, p in approvals] == [
        ("lena", False),
        ("omar", True),
    ]
    assert "tonight" not in str(events(engine))  # the reason stays out of the log


def test_nondisclosure_delays_the_notice_until_it_expires(engine: Engine) -> None:
    add_staff(engine)
    add_account(engine, "acct-suspect", "suspect", created=T0.replace(month=9, day=5))
    clock = FakeClock()
    until = T0 + timedelta(days=90)
    rid = _intake(
        engine,
        clock,
        nondisclosure={"basis": "US_2705B_ORDER", "expires_at": until.isoformat()},
    )
    _verify(engine, clock, rid)
    with unit_of_work(engine, clock=clock) as uow:
        services.approve(uow, rid, by="lena")
        produce(uow, rid, by="lena")
    assert events(engine, "authority_request.user_notified") == []
    assert events(engine, "authority_request.produced")[0][2]["user_notice"] == "delayed"
    clock.advance(days=89)
    with unit_of_work(engine, clock=clock) as uow:
        assert services.notify_due(uow) == []
    clock.advance(days=2)
    with unit_of_work(engine, clock=clock) as uow:
        assert [r.id for r in services.notify_due(uow)] == [rid]
    with unit_of_work(engine, clock=clock) as uow:
        assert services.notify_due(uow) == []  # once only
    notified = events(engine, "authority_request.user_notified")
    assert len(notified) == 1
    assert notified[0][2]["delayed"] is True


def test_preservation_places_and_extends_holds(engine: Engine) -> None:
    add_staff(engine)
    suspect = add_account(engine, "acct-suspect", "suspect")
    other = add_account(engine, "acct-other", "other")
    clock = FakeClock()
    rid = _intake(
        engine, clock, kind="preservation", instrument="US_2703F_PRESERVATION", data_categories=[]
    )
    with unit_of_work(engine, clock=clock) as uow:
        placed = services.preserve(uow, rid, by="lena", policy=policy())
        assert [h.account_id for h in placed] == [suspect]
        assert placed[0].expires_at == T0 + timedelta(days=90)
        assert placed[0].source == f"request:{rid}"
    assert _status(engine, rid) == "effect_given"
    with unit_of_work(engine, clock=clock) as uow:
        assert account_held(uow, suspect)
        assert not account_held(uow, other)
        services.extend_preservation(uow, rid, until=T0 + timedelta(days=180), by="omar")
    with unit_of_work(engine, clock=clock) as uow:
        assert holds_for(uow, suspect)[0].expires_at == T0 + timedelta(days=180)
    types = [t for t, _, _ in events(engine) if t.startswith(("hold.", "authority_request."))]
    assert types[-4:] == [
        "hold.placed",
        "authority_request.effect_given",
        "hold.extended",
        "authority_request.preservation_extended",
    ]


def test_preservation_for_a_stated_period(engine: Engine) -> None:
    add_staff(engine)
    add_account(engine, "acct-suspect", "suspect")
    clock = FakeClock()
    rid = _intake(
        engine,
        clock,
        kind="preservation",
        instrument="EU_EPOC_PR_PRESERVATION",
        data_categories=[],
        preserve_days=60,
    )
    with unit_of_work(engine, clock=clock) as uow:
        assert services.preserve(uow, rid, by="lena", policy=policy())[0].expires_at == (
            T0 + timedelta(days=60)
        )


def test_tco_removal_order_is_due_within_the_hour(engine: Engine) -> None:
    add_staff(engine)
    add_account(engine, "acct-suspect", "suspect")
    clock = FakeClock()
    tco = {
        "kind": "tco_removal_order",
        "instrument": "TCO_REMOVAL_ORDER_ART3",
        "targets": [{"identifier_type": "content_id", "value": "acct-suspect-post-0"}],
        "data_categories": [],
        "time_range": None,  # an order to act names the content, not a period
        "deadlines": {"comply_by": (T0 + timedelta(days=2)).isoformat()},
    }
    rid = _intake(engine, clock, **tco)
    assert _status(engine, rid) == "acknowledged"
    with Session(engine) as s:
        req = s.get(AuthorityRequest, rid)
        assert req is not None
        assert req.comply_by == T0 + timedelta(hours=1)
    clock.advance(minutes=40)
    with (
        unit_of_work(engine, clock=clock) as uow,
        pytest.raises(services.AuthorityError, match="needs one of the roles"),
    ):
        services.give_effect(uow, rid, by="stranger", policy=policy())
    with Session(engine) as s:
        assert services.overdue(s, clock.now) == []
        assert [r.id for r in services.overdue(s, T0 + timedelta(minutes=61))] == [rid]
    with (
        unit_of_work(engine, clock=clock) as uow,
        pytest.raises(services.AuthorityError, match="needs a policy with a 'terrorism' category"),
    ):
        services.give_effect(uow, rid, by="mo")
    with unit_of_work(engine, clock=clock) as uow:
        services.give_effect(uow, rid, by="mo", policy=policy())
    late_rid = _intake(engine, clock, **tco)
    clock.advance(minutes=61)
    with unit_of_work(engine, clock=clock) as uow:
        services.give_effect(uow, late_rid, by="mo", policy=policy())
    effects = events(engine, "authority_request.effect_given")
    assert [p["late"] for _, _, p in effects] == [False, True]
    # The named post, and only it, is removed, once; the order gives the reasons, so no
    # statement of reasons is issued (DSA Art. 17(5)).
    with Session(engine) as s:
        removed = s.scalars(select(Item).where(Item.status == "removed")).all()
        assert [i.platform_item_id for i in removed] == ["acct-suspect-post-0"]
        (action,) = s.scalars(select(Action)).all()
        assert (action.kind, action.category, action.automated) == (
            "remove_content",
            "terrorism",
            False,
        )
        assert s.scalars(select(StatementOfReasons)).all() == []
    assert [p["removed_item_ids"] for _, _, p in effects] == [[removed[0].id], []]
    # A TCO order resting on another instrument is refused.
    wrong = _intake(engine, clock, **{**tco, "instrument": "US_SUBPOENA"})
    assert _status(engine, wrong) == "refused"
    with unit_of_work(engine, clock=clock) as uow, pytest.raises(services.AuthorityError):
        services.give_effect(
            uow, _intake(engine, clock), by="mo", policy=policy()
        )  # a production is no order to act


def test_manual_refusal_needs_a_known_code_and_the_role(engine: Engine) -> None:
    add_staff(engine)
    clock = FakeClock()
    rid = _intake(engine, clock)
    with unit_of_work(engine, clock=clock) as uow:
        with pytest.raises(services.AuthorityError, match="reason_code"):
            services.refuse(uow, rid, reason_code="dont_like_it", by="lena")
        with pytest.raises(StaffError):
            services.refuse(uow, rid, reason_code="overbroad", by="mo")
        services.refuse(uow, rid, reason_code="legal_insufficiency", by="lena")
    assert _status(engine, rid) == "refused"


def test_preserving_named_content_holds_that_item_only(engine: Engine) -> None:
    add_staff(engine)
    suspect = add_account(engine, "acct-suspect", "suspect")
    clock = FakeClock()
    rid = _intake(
        engine,
        clock,
        kind="preservation",
        instrument="TCO_PRESERVATION_EXTENSION_ART6",
        data_categories=[],
        targets=[{"identifier_type": "content_id", "value": "acct-suspect-post-1"}],
    )
    with unit_of_work(engine, clock=clock) as uow:
        (hold,) = services.preserve(uow, rid, by="lena", policy=policy())
        assert hold.item_id is not None
        assert not account_held(uow, suspect)


def test_a_term_without_end_holds_the_notice_until_lifted(engine: Engine) -> None:
    add_staff(engine)
    add_account(engine, "acct-suspect", "suspect", created=T0.replace(month=9, day=5))
    clock = FakeClock()
    rid = _intake(engine, clock, nondisclosure={"basis": "UK_IPA_S82_CD"})
    _verify(engine, clock, rid)
    with unit_of_work(engine, clock=clock) as uow:
        services.approve(uow, rid, by="lena")
        produce(uow, rid, by="lena")
    clock.advance(days=3650)
    with unit_of_work(engine, clock=clock) as uow:
        assert services.notify_due(uow) == []
        with pytest.raises(StaffError):
            services.change_nondisclosure(uow, rid, expires_at=clock.now, by="mo")
        services.change_nondisclosure(uow, rid, expires_at=clock.now, by="lena")
    with unit_of_work(engine, clock=clock) as uow:
        assert [r.id for r in services.notify_due(uow)] == [rid]
        with pytest.raises(services.AuthorityError, match="already been told"):
            services.change_nondisclosure(uow, rid, expires_at=None, by="lena")
    assert [t for t, _, _ in events(engine, "authority_request.")][-2:] == [
        "authority_request.nondisclosure_changed",
        "authority_request.user_notified",
    ]
