"""Cascades send only the cheap model's uncertain texts on; ensembles average their models."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.classifiers.conftest import SMALL
from tests.classifiers.synthetic import examples, write
from tests.support.spine import context, item, write_jsonl
from vigil.classifiers import registry
from vigil.classifiers.base import Classifier, ClassifierError, Scores
from vigil.classifiers.cascade import Cascade, measure
from vigil.classifiers.data import read_labelled
from vigil.classifiers.ensemble import Ensemble
from vigil.classifiers.training import train_file
from vigil.cli import app
from vigil.ingest.services import ingest_file
from vigil.policy.defaults import default_policy_text
from vigil.signals.models import Signal


class Fixed:
    """A model whose scores are given per text; it records every text it was asked about."""

    kind = "fixed"

    def __init__(self, name: str, labels: tuple[str, ...], scores: dict[str, list[float]]):
        self._name, self._labels, self._scores = name, labels, scores
        self.seen: list[str] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        return "1"

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    def predict(self, texts: Sequence[str]) -> Scores:
        self.seen.extend(texts)
        return np.array([self._scores[t] for t in texts], dtype=np.float32).reshape(
            len(texts), len(self._labels)
        )


TEXTS = ["a", "b", "c", "d"]


def _pair() -> tuple[Fixed, Fixed]:
    # first: (threat, spam); then has the labels in the other order and one more.
    first = Fixed(
        "cheap",
        ("threat", "spam"),
        {"a": [0.01, 0.5], "b": [0.5, 0.0], "c": [0.97, 0.0], "d": [0.2, 0.99]},
    )
    then = Fixed(
        "costly",
        ("spam", "threat", "hate"),
        {t: [0.3, 0.8, 0.1] for t in TEXTS},
    )
    return first, then


def test_only_uncertain_texts_reach_the_second_model_and_only_their_labels_change() -> None:
    first, then = _pair()
    cascade = Cascade("screen", first, then, {"threat": (0.05, 0.95)})
    run = cascade.run(TEXTS)
    # Threat scores 0.5 and 0.2 are inside [0.05, 0.95); 0.01 and 0.97 are decided by `cheap`.
    assert then.seen == ["b", "d"]
    assert run.routed.tolist() == [False, True, False, True]
    assert run.scores[:, 0].tolist() == pytest.approx([0.01, 0.8, 0.97, 0.8])
    assert run.work_saved == pytest.approx(0.5)
    assert cascade.labels == ("threat",)
    assert cascade.stage_version(True) == "costly@1"
    assert cascade.stage_version(False) == "cheap@1"


def test_a_text_certain_on_one_label_keeps_that_score_when_another_is_uncertain() -> None:
    first, then = _pair()
    cascade = Cascade("screen", first, then, {"threat": (0.05, 0.95), "spam": (0.1, 0.9)})
    run = cascade.run(TEXTS)
    # "a": threat certain (0.01) but spam uncertain (0.5): sent on, only spam replaced.
    assert run.scores[0].tolist() == pytest.approx([0.01, 0.3])
    assert run.decided_by_then[0].tolist() == [False, True]
    # "c": both certain: never sent.
    assert run.scores[2].tolist() == pytest.approx([0.97, 0.0])
    assert then.seen == ["a", "b", "d"]


def test_a_label_missing_from_either_model_is_refused() -> None:
    first, then = _pair()
    with pytest.raises(ClassifierError, match="'hate' is not a label of cheap"):
        Cascade("screen", first, then, {"hate": (0.1, 0.9)})


def test_measure_matches_running_each_band(synthetic_model: Path, tmp_path: Path) -> None:
    cheap = registry.load(synthetic_model)
    costly = registry.load(_weaker_model(tmp_path))
    data = read_labelled(write(tmp_path / "test.jsonl", examples(120, seed=9)), ["threat"])
    bands = [(0.0, 0.0), (0.0, 1.0), (0.2, 0.8)]
    report = measure(cheap, costly, data.texts, data.targets, ["threat"], bands)
    truth = data.targets[:, 0] == 1
    for (low, high), entry in zip(bands, report["bands"], strict=True):
        run = Cascade("c", cheap, costly, {"threat": (low, high)}).run(data.texts)
        recall = float(((run.scores[:, 0] >= 0.5) & truth).sum() / truth.sum())
        m = entry["labels"]["threat"]
        assert m["recall_cascade"] == pytest.approx(recall)
        assert entry["work_saved"] == pytest.approx(run.work_saved)
    nothing, everything = report["bands"][0], report["bands"][1]
    assert nothing["work_saved"] == 1.0
    assert (
        nothing["labels"]["threat"]["recall_cascade"] == nothing["labels"]["threat"]["recall_first"]
    )
    assert everything["work_saved"] == 0.0
    assert everything["labels"]["threat"]["recall_lost"] == 0.0


def test_an_ensemble_is_the_weighted_mean_of_its_models() -> None:
    first, then = _pair()
    ensemble = Ensemble(
        "blend", {"cheap": first, "costly": then}, {"cheap": 1, "costly": 3}, ["threat"]
    )
    scores = ensemble.predict(TEXTS)[:, 0]
    expected = [0.25 * f + 0.75 * 0.8 for f in (0.01, 0.5, 0.97, 0.2)]
    assert scores.tolist() == pytest.approx(expected, abs=1e-6)
    assert "cheap@1*0.25" in ensemble.version


def _weaker_model(tmp_path: Path) -> Path:
    out = tmp_path / "weaker"
    if not (out / "manifest.json").exists():
        data = write(tmp_path / "small.jsonl", examples(40, seed=3))
        train_file(data, ["threat", "spam"], out, name="weaker", version="0.2", params=SMALL)
    return out


def test_cascade_command_writes_json_and_plot(synthetic_model: Path, tmp_path: Path) -> None:
    data = write(tmp_path / "test.jsonl", examples(80, seed=11))
    result = CliRunner().invoke(
        app,
        [
            "model",
            "cascade",
            str(synthetic_model),
            str(_weaker_model(tmp_path)),
            str(data),
            "--band",
            "0.1:0.9",
            "--band",
            "0:1",
            "--labels",
            "threat",
            "--out",
            str(tmp_path / "c"),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "c" / "cascade.json").read_text(encoding="utf-8"))
    assert [(b["low"], b["high"]) for b in report["bands"]] == [(0.1, 0.9), (0.0, 1.0)]
    assert report["bands"][1]["work_saved"] == 0.0
    assert (tmp_path / "c" / "cascade.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "share the second model scores" in " ".join(result.output.split())


def test_cascade_command_refuses_a_label_one_model_lacks(
    synthetic_model: Path, tmp_path: Path
) -> None:
    data = write(tmp_path / "test.jsonl", examples(20, seed=11))
    result = CliRunner().invoke(
        app,
        ["model", "cascade", "vigil-lexical", str(synthetic_model), str(data), "--labels", "hate"],
    )
    assert result.exit_code == 2
    assert "not shared by both models (shared: threat)" in result.output


THREAT = "[SYNTHETIC] I will stab you tonight #5"
BENIGN = "[SYNTHETIC] loved the garden, thanks for sharing #7"


def _policy(tmp_path: Path, cheap: Path, costly: Path, combination: str) -> Path:
    for model in (cheap, costly):
        shutil.copytree(model, tmp_path / "models" / model.name, dirs_exist_ok=True)
    rule = (
        "\n  - id: threat-screen\n    category: threat_to_life\n    when:\n"
        "      signals: [classifier]\n      classifier: screen\n      label: threat\n"
        "      min_score: 0.6\n    severity: critical\n    action: remove_content\n"
        "    review: required\n    deadline: 1h\n"
    )
    text = default_policy_text().replace("\nrules:\n", "\nrules:" + rule, 1)
    text += (
        f"\nclassifiers:\n  cheap:\n    path: models/{cheap.name}\n"
        f"  costly:\n    path: models/{costly.name}\n  screen:\n{combination}"
    )
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _renamed(model: Path, name: str, tmp_path: Path) -> Path:
    """A copy of ``model`` under another name (the policy declares models by their own name)."""
    out = tmp_path / "renamed" / name
    shutil.copytree(model, out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["name"] = name
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out


@pytest.mark.parametrize(
    ("combination", "versions"),
    [
        (
            "    cascade:\n      first: cheap\n      then: costly\n"
            "      uncertain: {low: 0.0, high: 1.0}\n",
            {"costly@0.2"},
        ),
        (
            "    cascade:\n      first: cheap\n      then: costly\n"
            "      uncertain: {low: 0.0, high: 0.0}\n",
            {"cheap@0.1"},
        ),
        ("    ensemble:\n      models: {cheap: 1, costly: 1}\n", {"cheap@0.1*0.5+costly@0.2*0.5"}),
    ],
    ids=["all-sent-on", "none-sent-on", "ensemble"],
)
def test_policy_combinations_raise_signals_naming_the_model_that_scored(
    engine: Engine,
    tmp_path: Path,
    synthetic_model: Path,
    combination: str,
    versions: set[str],
) -> None:
    cheap = _renamed(synthetic_model, "cheap", tmp_path)
    costly = _renamed(_weaker_model(tmp_path), "costly", tmp_path)
    policy = _policy(tmp_path, cheap, costly, combination)
    data = write_jsonl(tmp_path / "items.jsonl", [item("t1", THREAT), item("b1", BENIGN)])
    registry.clear_cache()
    ingest_file(engine, data, context(engine, policy))
    with Session(engine) as session:
        signals = list(session.scalars(select(Signal)))
    assert [s.model for s in signals] == ["screen"]
    assert {s.model_version for s in signals} == versions
    assert signals[0].score is not None
    assert signals[0].score >= 0.6


def _as_classifier(model: Classifier) -> Classifier:
    return model


def test_combinations_satisfy_the_classifier_protocol() -> None:
    first, then = _pair()
    assert isinstance(_as_classifier(Cascade("c", first, then, {"threat": (0, 1)})), Classifier)
    ensemble = Ensemble("e", {"a": first, "b": then}, {"a": 1, "b": 1}, ["threat"])
    assert isinstance(_as_classifier(ensemble), Classifier)
