"""A rule that may act alone never does so on a signal from a quarantined bank entry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.policy.test_engine import make_policy
from vigil.policy.engine import SignalFacts, evaluate
from vigil.policy.schema import SignalKind


def hash_signal(ref: int, *, quarantined: bool = False) -> SignalFacts:
    return SignalFacts(
        ref=ref, kind=SignalKind.SHA256, bank="terror", bank_category="a", quarantined=quarantined
    )


AUTO: dict[str, Any] = {"id": "auto", "when": {"signals": ["sha256"]}, "severity": "critical"}


def test_a_quarantined_signal_turns_an_automatic_verdict_into_a_case() -> None:
    verdict = evaluate(make_policy(AUTO), [hash_signal(1, quarantined=True)])
    assert verdict is not None
    assert (verdict.rule_id, verdict.review_required, verdict.held) == ("auto", True, (1,))
    assert verdict.signal_refs == (1,)
    # The rule has no deadline of its own: the safeguard's applies (24h by default).
    assert verdict.deadline == timedelta(hours=24)
    assert verdict.held_payload() == {
        "held_for_review": "bank_entry_quarantined",
        "quarantined_signal_ids": [1],
    }


def test_the_same_signal_unquarantined_acts_alone() -> None:
    verdict = evaluate(make_policy(AUTO), [hash_signal(1)])
    assert verdict is not None
    assert (verdict.review_required, verdict.held, verdict.deadline) == (False, (), None)
    assert verdict.held_payload() == {}


def test_a_rule_deadline_wins_over_the_safeguard_deadline() -> None:
    verdict = evaluate(make_policy({**AUTO, "deadline": "2h"}), [hash_signal(1, quarantined=True)])
    assert verdict is not None
    assert verdict.deadline == timedelta(hours=2)


def test_healthy_signals_that_satisfy_the_rule_still_act_alone() -> None:
    verdict = evaluate(make_policy(AUTO), [hash_signal(1, quarantined=True), hash_signal(2)])
    assert verdict is not None
    assert (verdict.review_required, verdict.held, verdict.signal_refs) == (False, (), (2,))


def test_a_rule_that_needs_the_quarantined_signal_to_reach_min_count_is_held() -> None:
    rule = {**AUTO, "when": {"signals": ["sha256"], "min_count": 2}}
    verdict = evaluate(make_policy(rule), [hash_signal(1, quarantined=True), hash_signal(2)])
    assert verdict is not None
    assert (verdict.review_required, verdict.held, verdict.signal_refs) == (True, (1,), (1, 2))


def test_review_rules_are_unchanged_and_unrelied_signals_do_not_hold() -> None:
    review = {**AUTO, "review": "required", "deadline": "1h"}
    verdict = evaluate(make_policy(review), [hash_signal(1, quarantined=True)])
    assert verdict is not None
    assert (verdict.review_required, verdict.held, verdict.deadline) == (
        True,
        (),
        timedelta(hours=1),
    )
    # A quarantined term signal the winning hash rule does not rely on changes nothing.
    term = SignalFacts(ref=9, kind=SignalKind.TERM, quarantined=True)
    verdict = evaluate(make_policy(AUTO), [hash_signal(1), term])
    assert verdict is not None
    assert (verdict.review_required, verdict.held) == (False, ())
