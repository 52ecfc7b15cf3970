"""At ingest the policy's classifiers raise signals with model, version and score, and rules act on them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.support.spine import context, item, write_jsonl
from vigil.audit.models import Event
from vigil.cases.models import Case
from vigil.ingest.services import ingest_file
from vigil.items.models import Item
from vigil.policy.defaults import default_policy_text
from vigil.policy.models import Verdict
from vigil.signals.models import Signal

THREAT = "[SYNTHETIC] I will stab you tonight #5"
BENIGN = "[SYNTHETIC] loved the garden, thanks for sharing #7"
RULE = """
  - id: threat-model
    category: threat_to_life
    when:
      signals: [classifier]
      classifier: synthetic-threat
      label: threat
      min_score: 0.6
    severity: critical
    action: remove_content
    review: required
    deadline: 1h
"""


def _policy(
    tmp_path: Path,
    model: Path,
    name: str = "synthetic-threat",
    kind: str = "lexical",
    version: str = "0.1",
) -> Path:
    """The default policy plus a synthetic model, declared by a path relative to the file."""
    shutil.copytree(model, tmp_path / "models" / name)
    rule = RULE.replace("classifier: synthetic-threat", f"classifier: {name}")
    text = default_policy_text().replace("\nrules:\n", "\nrules:\n" + rule, 1)
    text += (
        f"\nclassifiers:\n  {name}:\n    kind: {kind}\n"
        f'    path: models/{name}\n    version: "{version}"\n'
    )
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_classifier_rule_opens_a_case_with_model_evidence(
    engine: Engine, tmp_path: Path, synthetic_model: Path
) -> None:
    records = [
        item("t1", THREAT),
        item("b1", BENIGN),
        item("u1", None, urls=["https://x.example/"]),
    ]
    data = write_jsonl(tmp_path / "items.jsonl", records)
    summary = ingest_file(engine, data, context(engine, _policy(tmp_path, synthetic_model)))
    assert (summary.outcome.stored, summary.outcome.cases_opened) == (3, 1)
    with Session(engine) as session:
        ids = {i.platform_item_id: i for i in session.scalars(select(Item))}
        signals = list(session.scalars(select(Signal)))
        assert [(s.item_id, s.kind, s.matched) for s in signals] == [
            (ids["t1"].id, "classifier", "threat")
        ]
        signal = signals[0]
        assert (signal.model, signal.model_version) == ("synthetic-threat", "0.1")
        assert signal.score is not None
        assert 0.6 <= signal.score <= 1.0
        verdict = session.scalars(select(Verdict)).one()
        assert (verdict.rule_id, verdict.signal_ids) == ("threat-model", [signal.id])
        case = session.scalars(select(Case)).one()
        assert (case.item_id, case.category) == (ids["t1"].id, "threat_to_life")
        # The flagged item keeps its text for the reviewer; the benign one is dropped.
        assert ids["t1"].text == THREAT
        assert ids["b1"].text is None
        raised = session.scalars(select(Event).where(Event.type == "signal.raised")).one()
    payload = json.loads(raised.body)["payload"]
    assert payload == {
        "signal_id": signal.id,
        "kind": "classifier",
        "bank_id": None,
        "bank_entry_id": None,
        "notice_id": None,
        "reason": signal.reason,
        "model": "synthetic-threat",
        "model_version": "0.1",
        "label": "threat",
        "score": signal.score,
    }
    assert "stab" not in raised.body


def test_without_classifier_rules_no_model_runs(
    engine: Engine, tmp_path: Path, synthetic_model: Path
) -> None:
    """A declared model that no rule uses raises nothing (and is never loaded)."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        default_policy_text() + "\nclassifiers:\n  vigil-lexical:\n    kind: lexical\n",
        encoding="utf-8",
    )
    data = write_jsonl(tmp_path / "items.jsonl", [item("t1", THREAT)])
    ingest_file(engine, data, context(engine, policy))
    with Session(engine) as session:
        assert session.scalars(select(Signal)).all() == []


def test_an_embedding_model_raises_signals_through_the_same_pipeline(
    engine: Engine, tmp_path: Path, embedding_model: Path
) -> None:
    """The pipeline needs nothing kind-specific: a policy declares embedding heads by path."""
    policy = _policy(tmp_path, embedding_model, "synthetic-embed", "embedding", "0.2")
    records = [item("t1", THREAT), item("b1", BENIGN), item("t2", "[SYNTHETIC] I will shoot you")]
    data = write_jsonl(tmp_path / "items.jsonl", records)
    summary = ingest_file(engine, data, context(engine, policy))
    assert (summary.outcome.stored, summary.outcome.cases_opened) == (3, 2)
    with Session(engine) as session:
        ids = {i.id: i.platform_item_id for i in session.scalars(select(Item))}
        signals = sorted(session.scalars(select(Signal)), key=lambda s: ids[s.item_id])
        assert [(ids[s.item_id], s.kind, s.matched) for s in signals] == [
            ("t1", "classifier", "threat"),
            ("t2", "classifier", "threat"),
        ]
        for signal in signals:
            assert (signal.model, signal.model_version) == ("synthetic-embed", "0.2")
            assert signal.score is not None
            assert 0.6 <= signal.score <= 1.0
            assert f"classifier synthetic-embed 0.2 scored {signal.score:.3f}" in signal.reason
        verdicts = list(session.scalars(select(Verdict)))
        assert sorted(v.rule_id for v in verdicts) == ["threat-model", "threat-model"]
