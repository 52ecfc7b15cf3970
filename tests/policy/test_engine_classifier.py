"""Classifier conditions: the right model and label, at or above the rule's min_score."""

from __future__ import annotations

from tests.policy.test_engine import make_policy
from vigil.classifiers.services import thresholds
from vigil.policy.engine import SignalFacts, evaluate
from vigil.policy.schema import SignalKind


def scored(ref: int, score: float, label: str = "threat", model: str = "m") -> SignalFacts:
    return SignalFacts(ref=ref, kind=SignalKind.CLASSIFIER, model=model, label=label, score=score)


POLICY = make_policy(
    {
        "id": "threat-high",
        "category": "b",
        "when": {"signals": ["classifier"], "classifier": "m", "label": "threat", "min_score": 0.9},
        "severity": "critical",
        "review": "required",
        "deadline": "1h",
    },
    {
        "id": "threat-review",
        "when": {"signals": ["classifier"], "classifier": "m", "label": "threat", "min_score": 0.6},
        "severity": "medium",
        "review": "required",
        "deadline": "24h",
    },
    {
        "id": "hate",
        "category": "c",
        "when": {"signals": ["classifier"], "classifier": "m", "label": "hate", "min_score": 0.7},
        "severity": "high",
        "review": "required",
        "deadline": "24h",
    },
)


def test_the_score_decides_which_rule_fires() -> None:
    assert evaluate(POLICY, [scored(1, 0.59)]) is None
    low = evaluate(POLICY, [scored(1, 0.6)])
    assert low is not None
    assert low.rule_id == "threat-review"
    high = evaluate(POLICY, [scored(1, 0.95)])
    assert high is not None
    assert high.rule_id == "threat-high"


def test_label_and_model_must_match() -> None:
    assert evaluate(POLICY, [scored(1, 0.99, label="offensive")]) is None
    assert evaluate(POLICY, [scored(1, 0.99, model="other")]) is None
    verdict = evaluate(POLICY, [scored(1, 0.65), scored(2, 0.75, label="hate")])
    assert verdict is not None
    assert (verdict.rule_id, verdict.signal_refs) == ("hate", (2,))


def test_the_lowest_threshold_per_label_decides_what_becomes_a_signal() -> None:
    assert thresholds(POLICY) == {"m": {"threat": 0.6, "hate": 0.7}}
