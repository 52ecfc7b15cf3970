"""Each safeguard alone: its reason code, its message, and the cases it must let through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vigil.authorities.models import DataCategory as C
from vigil.authorities.models import RequestKind, RequestStatus
from vigil.authorities.reducer import InvalidTransitionError, apply, request_status
from vigil.authorities.safeguards import (
    ALLOWED_CATEGORIES,
    INSTRUMENTS,
    Target,
    check_categories,
    check_emergency_approval,
    check_instrument,
    check_intake,
    check_targets,
    check_time_range,
    check_verified,
    producible,
    tco_deadline,
)

D = datetime(2026, 9, 1, tzinfo=UTC)


def codes(refusals: list) -> list[str]:  # type: ignore[type-arg]
    return [r.code for r in refusals]


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("username", "*"),
        ("username", "all"),
        ("username", "All Users"),
        ("account_id", "everyone"),
        ("username", "jo*"),
        ("username", "%jo%"),
        ("username", "#protest"),
        ("username", "alice or bob"),
        ("url", "https://example.org/users/*"),
        ("hashtag", "protest"),
        ("keyword", "bomb"),
        ("search_term", "bomb"),
        ("region", "Bavaria"),
        ("ip_range", "10.0.0.0/8"),
    ],
)
def test_wildcards_and_populations_are_refused(kind: str, value: str) -> None:
    refusals = check_targets([Target(kind, value)], max_targets=10)
    assert codes(refusals) == ["broad_target"]
    assert "target 1" in refusals[0].message


def test_specific_targets_pass_and_empty_ones_do_not() -> None:
    ok = [
        Target("account_id", "acct-1"),
        Target("username", "@alice"),
        Target("url", "https://example.org/p/1?ref=share%20x"),
        Target("content_id", "post-9"),
        Target("email", "a@example.org"),
        Target("phone", "+49301234"),
    ]
    assert check_targets(ok, max_targets=10) == []
    assert codes(check_targets([Target("username", "  ")], max_targets=10)) == ["empty_target"]
    assert codes(check_targets([], max_targets=10)) == ["no_targets"]


def test_the_cap_on_targets() -> None:
    three = [Target("account_id", f"a{n}") for n in range(3)]
    assert check_targets(three, max_targets=3) == []
    refusal = check_targets(three, max_targets=2)
    assert codes(refusal) == ["too_many_targets"]
    assert "3 targets; at most 2" in refusal[0].message


def test_instruments() -> None:
    assert codes(check_instrument(RequestKind.PRODUCTION, None)) == ["no_legal_instrument"]
    assert codes(check_instrument(RequestKind.PRODUCTION, " ")) == ["no_legal_instrument"]
    assert codes(check_instrument(RequestKind.PRODUCTION, "A_LETTER")) == ["unknown_instrument"]
    assert check_instrument(RequestKind.PRODUCTION, "US_SUBPOENA") == []
    assert codes(check_instrument(RequestKind.TCO_REMOVAL_ORDER, "US_SUBPOENA")) == [
        "instrument_mismatch"
    ]
    assert check_instrument(RequestKind.TCO_REMOVAL_ORDER, "TCO_REMOVAL_ORDER_ART3") == []
    assert set(ALLOWED_CATEGORIES) == set(INSTRUMENTS)


def test_date_ranges() -> None:
    year = timedelta(days=366)
    assert codes(check_time_range(None, D, max_span=year)) == ["no_date_range"]
    assert codes(check_time_range(D, None, max_span=year)) == ["no_date_range"]
    assert codes(check_time_range(D, D - timedelta(days=1), max_span=year)) == ["bad_date_range"]
    too_long = check_time_range(D, D + timedelta(days=400), max_span=year)
    assert codes(too_long) == ["date_range_too_long"]
    assert "400 days; at most 366" in too_long[0].message
    assert check_time_range(D, D + year, max_span=year) == []


def test_the_category_table_is_explicit() -> None:
    assert producible("US_SUBPOENA", list(C)) == [C.SUBSCRIBER_BASIC]
    assert producible("US_2703D_ORDER", list(C)) == [C.NON_CONTENT_TRAFFIC_LOGS, C.SUBSCRIBER_BASIC]
    assert producible("US_SEARCH_WARRANT", list(C)) == sorted(C)
    assert producible("EU_EPOC_PRODUCTION", list(C)) == sorted(C)
    assert producible("US_2703F_PRESERVATION", list(C)) == []
    assert producible("UK_IPA_PART2_INTERCEPTION_WARRANT", list(C)) == []
    assert producible("NOT_AN_INSTRUMENT", list(C)) == []
    assert producible("US_SEARCH_WARRANT", ["content", "bulk"]) == [C.CONTENT]


def test_categories_at_intake() -> None:
    production = RequestKind.PRODUCTION
    assert codes(check_categories(production, "US_SUBPOENA", ["content"])) == [
        "category_not_allowed"
    ]
    assert codes(check_categories(production, "US_SUBPOENA", [])) == ["no_data_categories"]
    assert check_categories(production, "US_SUBPOENA", ["subscriber_basic", "content"]) == []
    assert check_categories(RequestKind.PRESERVATION, "US_2703F_PRESERVATION", []) == []


def test_verification_and_emergency_approval() -> None:
    assert codes(check_verified(None)) == ["unverified"]
    assert check_verified(D) == []
    assert codes(check_emergency_approval(None, None, "lena")) == ["no_good_faith_reason"]
    assert codes(check_emergency_approval("danger", "Lena", " lena")) == ["same_approver"]
    assert check_emergency_approval("danger", None, "lena") == []
    assert check_emergency_approval("danger", "lena", "omar") == []


def test_tco_deadline_is_one_hour() -> None:
    assert tco_deadline(D) == D + timedelta(hours=1)


def test_the_reducer() -> None:
    s = RequestStatus
    path = [
        ("authority_request.received", {}),
        ("authority_request.acknowledged", {}),
        ("authority_request.verified", {}),
        ("authority_request.approved", {"complete": False}),
    ]
    assert request_status(path) is s.AWAITING_SECOND_APPROVAL
    path.append(("authority_request.approved", {"complete": True}))
    path.append(("authority_request.produced", {}))
    path.append(("authority_request.user_notified", {}))
    assert request_status(path) is s.PRODUCED
    with pytest.raises(InvalidTransitionError):
        apply(s.ACKNOWLEDGED, "authority_request.produced", {})  # never unverified
    with pytest.raises(InvalidTransitionError):
        apply(s.ACKNOWLEDGED, "authority_request.approved", {})
    with pytest.raises(InvalidTransitionError):
        apply(s.REFUSED, "authority_request.verified", {})
    with pytest.raises(InvalidTransitionError):
        apply(s.PRODUCED, "authority_request.refused", {})
    with pytest.raises(InvalidTransitionError):
        apply(s.APPROVED, "authority_request.user_notified", {})
    assert apply(s.ACKNOWLEDGED, "authority_request.effect_given", {}) is s.EFFECT_GIVEN
    assert apply(s.EFFECT_GIVEN, "authority_request.preservation_extended", {}) is s.EFFECT_GIVEN
    with pytest.raises(InvalidTransitionError):
        apply(s.RECEIVED, "authority_request.exported", {})


def test_orders_to_act_need_no_date_range_but_a_given_one_is_checked() -> None:
    one = [Target("content_id", "post-1")]
    year = timedelta(days=366)

    def intake(
        kind: RequestKind, instrument: str, start: datetime | None, end: datetime | None
    ) -> list[str]:
        return codes(
            check_intake(kind, instrument, one, start, end, [], max_targets=10, max_span=year)
        )

    tco = RequestKind.TCO_REMOVAL_ORDER
    assert intake(tco, "TCO_REMOVAL_ORDER_ART3", None, None) == []
    assert intake(tco, "TCO_REMOVAL_ORDER_ART3", D, D - timedelta(days=1)) == ["bad_date_range"]
    assert intake(RequestKind.PRESERVATION, "US_2703F_PRESERVATION", None, None) == [
        "no_date_range"
    ]
