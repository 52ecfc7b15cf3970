"""No code path exports data about accounts the approved request does not name: these tests try."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from tests.authorities.support import T0, FakeClock, add_account, add_staff, body, policy
from vigil.authorities import services
from vigil.authorities.models import AuthorityRequest
from vigil.authorities.production import ProductionError, build_package, produce
from vigil.authorities.schemas import RequestIn
from vigil.items.models import Item
from vigil.platform import feed
from vigil.unit_of_work import unit_of_work

SEPT = T0.replace(month=9, day=5)


def _approved(engine: Engine, clock: FakeClock, **over: object) -> int:
    with unit_of_work(engine, clock=clock) as uow:
        rid = services.intake(
            uow, RequestIn.model_validate(body(**over)), policy=policy(), by="portal"
        ).id
    with unit_of_work(engine, clock=clock) as uow:
        services.verify(uow, rid, method="portal_identity", by="lena", evidence_ref="portal-1")
        services.approve(uow, rid, by="lena")
    return rid


def _crowd(engine: Engine) -> dict[str, int]:
    """The suspect and look-alikes: similar handles and ids that must never leak."""
    return {
        pid: add_account(engine, pid, handle, created=SEPT)
        for pid, handle in [
            ("acct-suspect", "suspect"),
            ("acct-suspect2", "suspect2"),
            ("acct-SUSPECT", "Suspect"),
            ("acct-suspect-x", "suspect_"),
            ("other", "bystander"),
        ]
    }


def _leaks(text: str, allowed: str) -> list[str]:
    others = ["acct-suspect2", "acct-SUSPECT", "acct-suspect-x", "other", "bystander", "Suspect"]
    return [o for o in others if o != allowed and f'"{o}' in text]


def test_a_request_naming_one_account_yields_that_account_only(engine: Engine) -> None:
    add_staff(engine)
    ids = _crowd(engine)
    clock = FakeClock()
    rid = _approved(
        engine,
        clock,
        targets=[
            {"identifier_type": "username", "value": "@suspect"},
            {"identifier_type": "account_id", "value": "acct-nobody"},  # matches nothing
            {"identifier_type": "email", "value": "x@example.org"},  # never held
        ],
    )
    with Session(engine) as s:
        assert services.named_account_ids(s, rid) == [ids["acct-suspect"]]
    with unit_of_work(engine, clock=clock) as uow:
        done = produce(uow, rid, by="lena")
    assert [a["platform_account_id"] for a in done.package["accounts"]] == ["acct-suspect"]
    assert _leaks(done.body, "") == []
    assert done.production.account_ids == [ids["acct-suspect"]]
    assert hashlib.sha256(done.body.encode()).hexdigest() == done.production.package_sha256
    texts = [i["text"] for i in done.package["accounts"][0]["items"]]
    assert texts == ["text of acct-suspect number 0", "text of acct-suspect number 1"]


def test_direct_calls_with_other_account_ids_are_refused(engine: Engine) -> None:
    add_staff(engine)
    ids = _crowd(engine)
    clock = FakeClock()
    rid = _approved(engine, clock)
    with Session(engine) as s:
        req = s.get(AuthorityRequest, rid)
        assert req is not None
        for stray in ("acct-suspect2", "acct-SUSPECT", "other"):
            with pytest.raises(ProductionError, match="does not name"):
                build_package(s, req, [ids["acct-suspect"], ids[stray]])
        assert [a["platform_account_id"] for a in build_package(s, req, [])["accounts"]] == []
    # Another approved request's accounts are out of reach of this one, too.
    other = _approved(engine, clock, targets=[{"identifier_type": "account_id", "value": "other"}])
    with Session(engine) as s:
        req = s.get(AuthorityRequest, rid)
        assert req is not None
        with pytest.raises(ProductionError):
            build_package(s, req, services.named_account_ids(s, other))


def test_unapproved_or_refused_requests_yield_nothing(engine: Engine) -> None:
    add_staff(engine)
    ids = _crowd(engine)
    clock = FakeClock()
    with unit_of_work(engine, clock=clock) as uow:
        rid = services.intake(uow, RequestIn.model_validate(body()), policy=policy(), by="p").id
    with Session(engine) as s:
        req = s.get(AuthorityRequest, rid)
        assert req is not None
        with pytest.raises(ProductionError):
            build_package(s, req, [ids["acct-suspect"]])
    # Even a status forced in the database does not make an unverified request produce.
    with Session(engine) as s:
        s.execute(update(AuthorityRequest).values(status="approved"))
        s.commit()
        req = s.get(AuthorityRequest, rid)
        assert req is not None
        with pytest.raises(ProductionError, match="not verified"):
            build_package(s, req, [ids["acct-suspect"]])


@pytest.mark.parametrize(
    ("instrument", "categories", "keys", "items", "text"),
    [
        ("US_SUBPOENA", ["subscriber_basic", "content"], {"handle"}, False, False),
        (
            "US_2703D_ORDER",
            ["subscriber_basic", "non_content_traffic_logs", "content"],
            {"handle"},
            True,
            False,
        ),
        ("US_SEARCH_WARRANT", ["subscriber_basic", "content"], {"handle"}, True, True),
        ("EU_EPOC_PRODUCTION", ["content"], set(), True, True),
    ],
)
def test_the_instrument_limits_the_categories(
    engine: Engine,
    instrument: str,
    categories: list[str],
    keys: set[str],
    items: bool,
    text: bool,
) -> None:
    add_staff(engine)
    _crowd(engine)
    clock = FakeClock()
    rid = _approved(engine, clock, instrument=instrument, data_categories=categories)
    with unit_of_work(engine, clock=clock) as uow:
        done = produce(uow, rid, by="lena")
    account = done.package["accounts"][0]
    assert ("handle" in account) == ("handle" in keys)
    assert ("items" in account) == items
    if items:
        assert all(("text" in i) == text for i in account["items"])
    if instrument == "US_SUBPOENA":
        assert done.package["categories"] == ["subscriber_basic"]
        assert "text of" not in done.body


def test_a_subpoena_for_content_alone_is_refused_at_intake(engine: Engine) -> None:
    clock = FakeClock()
    with unit_of_work(engine, clock=clock) as uow:
        req = services.intake(
            uow,
            RequestIn.model_validate(body(instrument="US_SUBPOENA", data_categories=["content"])),
            policy=policy(),
            by="p",
        )
        assert (req.status, req.refusal_code) == ("refused", "category_not_allowed")


def test_only_data_held_at_receipt_in_the_range(engine: Engine) -> None:
    add_staff(engine)
    ids = _crowd(engine)
    clock = FakeClock()
    rid = _approved(engine, clock)
    with Session(engine) as s:
        suspect = ids["acct-suspect"]
        # Content dropped by retention stays dropped.
        s.execute(
            update(Item)
            .where(Item.platform_item_id == "acct-suspect-post-0")
            .values(text=None, content_retained=False)
        )
        # Posted inside the range but arrived after the request: not held when it came.
        s.add(
            Item(
                platform_item_id="acct-suspect-late",
                kind="post",
                account_id=suspect,
                created_at=SEPT,
                ingested_at=T0 + timedelta(minutes=5),
                text="arrived after the request",
            )
        )
        # Held, but outside the range asked for.
        s.add(
            Item(
                platform_item_id="acct-suspect-old",
                kind="post",
                account_id=suspect,
                created_at=T0 - timedelta(days=365),
                ingested_at=T0 - timedelta(days=365),
                text="old",
            )
        )
        s.commit()
    clock.advance(hours=1)
    with unit_of_work(engine, clock=clock) as uow:
        done = produce(uow, rid, by="lena")
    rows = done.package["accounts"][0]["items"]
    assert [(i["platform_item_id"], i["text"]) for i in rows] == [
        ("acct-suspect-post-0", None),
        ("acct-suspect-post-1", "text of acct-suspect number 1"),
    ]
    assert "arrived after" not in json.dumps(done.package)


def test_a_content_target_yields_that_item_only(engine: Engine) -> None:
    add_staff(engine)
    _crowd(engine)
    clock = FakeClock()
    rid = _approved(
        engine, clock, targets=[{"identifier_type": "content_id", "value": "acct-suspect-post-1"}]
    )
    with unit_of_work(engine, clock=clock) as uow:
        done = produce(uow, rid, by="lena")
    assert [i["platform_item_id"] for i in done.package["accounts"][0]["items"]] == [
        "acct-suspect-post-1"
    ]


def test_an_ambiguous_user_name_matches_no_one(engine: Engine) -> None:
    add_staff(engine)
    add_account(engine, "inst-a-twin", "twin", created=SEPT)
    add_account(engine, "inst-b-twin", "twin", created=SEPT)
    clock = FakeClock()
    rid = _approved(engine, clock, targets=[{"identifier_type": "username", "value": "twin"}])
    with unit_of_work(engine, clock=clock) as uow:
        done = produce(uow, rid, by="lena")
    assert done.package["accounts"] == []
    assert done.production.account_ids == []
    assert "twin" not in done.body


def test_the_platform_is_told_to_notify_the_named_user_only(engine: Engine) -> None:
    """The user notice reaches the platform feed with the platform's id of the named account."""
    add_staff(engine)
    _crowd(engine)
    clock = FakeClock()
    rid = _approved(engine, clock)
    with unit_of_work(engine, clock=clock) as uow:
        produce(uow, rid, by="lena")
    with Session(engine) as s:
        (notice,) = feed.read(s, types=["authority_request.user_notified"]).events
    assert notice.data == {
        "request_id": rid,
        "platform_account_ids": ["acct-suspect"],
        "authority": "Bundeskriminalamt",
        "country": "DE",
        "instrument": "EU_EPOC_PRODUCTION",
        "delayed": False,
    }
    assert _leaks(notice.body().decode(), "") == []
