"""The engine picks one verdict: most severe rule first, then the rule written first."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from vigil.policy.engine import SignalFacts, evaluate
from vigil.policy.schema import ActionKind, Policy, Severity, SignalKind

STATEMENT = {
    "category": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "ground": "incompatible",
    "terms_clause": "Terms 1",
    "explanation": "Not allowed.",
}


def make_policy(*rules: dict[str, Any]) -> Policy:
    categories = {c: {"title": c, "statement": STATEMENT} for c in ("a", "b", "c")}
    full = [
        {"category": "a", "action": "remove_content", "review": "none", **rule} for rule in rules
    ]
    return Policy.model_validate(
        {"policy": "test", "version": "1", "categories": categories, "rules": full}
    )


def term(ref: int, bank: str | None = None, category: str | None = None) -> SignalFacts:
    return SignalFacts(ref=ref, kind=SignalKind.TERM, bank=bank, bank_category=category)


def notice(ref: int, category: str) -> SignalFacts:
    return SignalFacts(ref=ref, kind=SignalKind.NOTICE, notice_category=category)


def test_no_signals_gives_no_verdict() -> None:
    policy = make_policy({"id": "any", "when": {"signals": ["term"]}, "severity": "low"})
    assert evaluate(policy, []) is None


def test_no_matching_rule_gives_no_verdict() -> None:
    policy = make_policy({"id": "hash", "when": {"signals": ["sha256"]}, "severity": "low"})
    assert evaluate(policy, [term(1)]) is None


def test_most_severe_rule_wins_even_when_written_later() -> None:
    policy = make_policy(
        {"id": "mild", "when": {"signals": ["term"]}, "severity": "low"},
        {
            "id": "grave",
            "category": "b",
            "when": {"signals": ["term"]},
            "severity": "critical",
            "action": "restrict_visibility",
            "review": "required",
            "deadline": "1h",
        },
    )
    verdict = evaluate(policy, [term(7)])
    assert verdict is not None
    assert verdict.rule_id == "grave"
    assert verdict.category == "b"
    assert verdict.severity is Severity.CRITICAL
    assert verdict.action is ActionKind.RESTRICT_VISIBILITY
    assert verdict.review_required is True
    assert verdict.deadline == timedelta(hours=1)
    assert verdict.signal_refs == (7,)


def test_equal_severity_goes_to_the_earlier_rule() -> None:
    policy = make_policy(
        {"id": "first", "when": {"signals": ["term"]}, "severity": "high"},
        {"id": "second", "when": {"signals": ["term"]}, "severity": "high"},
    )
    verdict = evaluate(policy, [term(1)])
    assert verdict is not None
    assert verdict.rule_id == "first"
    assert verdict.review_required is False
    assert verdict.deadline is None


def test_min_count_needs_that_many_matching_signals() -> None:
    policy = make_policy(
        {"id": "two-notices", "when": {"signals": ["notice"], "min_count": 2}, "severity": "low"}
    )
    assert evaluate(policy, [notice(1, "a")]) is None
    verdict = evaluate(policy, [notice(1, "a"), term(2), notice(3, "b")])
    assert verdict is not None
    assert verdict.signal_refs == (1, 3)


def test_bank_filter() -> None:
    policy = make_policy(
        {"id": "gifct", "when": {"signals": ["term"], "banks": ["gifct"]}, "severity": "low"}
    )
    assert evaluate(policy, [term(1, bank="other")]) is None
    assert evaluate(policy, [term(1)]) is None
    verdict = evaluate(policy, [term(1, bank="other"), term(2, bank="gifct")])
    assert verdict is not None
    assert verdict.signal_refs == (2,)


def test_bank_category_filter() -> None:
    policy = make_policy(
        {"id": "b-only", "when": {"signals": ["term"], "bank_categories": ["b"]}, "severity": "low"}
    )
    assert evaluate(policy, [term(1, category="a")]) is None
    verdict = evaluate(policy, [term(1, category="a"), term(2, category="b")])
    assert verdict is not None
    assert verdict.signal_refs == (2,)


def test_notice_category_filter() -> None:
    policy = make_policy(
        {
            "id": "urgent",
            "when": {"signals": ["notice"], "notice_categories": ["c"]},
            "severity": "critical",
        },
        {"id": "any-notice", "when": {"signals": ["notice"]}, "severity": "low"},
    )
    verdict = evaluate(policy, [notice(1, "a")])
    assert verdict is not None
    assert verdict.rule_id == "any-notice"
    verdict = evaluate(policy, [notice(1, "a"), notice(2, "c")])
    assert verdict is not None
    assert verdict.rule_id == "urgent"
    assert verdict.signal_refs == (2,)
