"""Exemplar sets: synthetic propaganda scores above news about it, and bad YAML is named by line."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from tests.classifiers.conftest import EXAMPLE_EXEMPLARS
from vigil.classifiers import registry
from vigil.classifiers.base import ClassifierError
from vigil.classifiers.encoders import Encoder
from vigil.classifiers.exemplar import (
    NO_COUNTER_MARGIN,
    TEXTS,
    VECTORS,
    ExemplarModel,
    calibrate,
    parse_exemplars,
)
from vigil.classifiers.manifest import read_manifest
from vigil.cli import app

# Held out: none of these is in the example file.
PROPAGANDA = [
    "[SYNTHETIC] Brothers, the Crimson Hand needs you. Take up arms and let the blood of our enemies flow.",
    "[SYNTHETIC] Honour our fallen martyrs by continuing their war. The traitors will burn.",
    "[SYNTHETIC] Join the struggle now: the Black Banner Front will crush the oppressors and their servants.",
    "[SYNTHETIC] The Iron Dawn Brigade salutes its heroes. Pick up a weapon and become one of them.",
]
NEWS = [
    "[SYNTHETIC] Officials confirmed that the suspect arrested on Tuesday had links to a banned militant group.",
    "[SYNTHETIC] A documentary follows families rebuilding their lives after the bombing in the city centre.",
    "[SYNTHETIC] Teachers receive training to spot signs of radicalisation among students.",
    "[SYNTHETIC] loved the garden, thanks for sharing",
]


def test_the_example_file_is_clearly_synthetic() -> None:
    data = yaml.safe_load(EXAMPLE_EXEMPLARS.read_text(encoding="utf-8"))
    texts = [t for spec in data.values() for key in spec for t in spec[key]]
    assert len(texts) >= 15
    assert all(t.startswith("[SYNTHETIC] ") for t in texts)


def test_propaganda_scores_above_news_about_it(exemplar_model: Path) -> None:
    model = registry.load(exemplar_model)
    assert isinstance(model, ExemplarModel)
    assert (model.kind, model.labels) == ("exemplar", ("violent_extremism",))
    propaganda = model.predict(PROPAGANDA)[:, 0]
    news = model.predict(NEWS)[:, 0]
    assert propaganda.min() > news.max()
    assert propaganda.min() > 0.5
    assert news.max() < 0.5
    # The exemplars themselves score at the top of the scale.
    exemplars = model.predict(list(model.categories["violent_extremism"].exemplars))[:, 0]
    assert exemplars.min() > 0.99


def test_the_calibration_maps_typical_similarity_to_0_9(exemplar_model: Path) -> None:
    model = registry.load(exemplar_model)
    assert isinstance(model, ExemplarModel)
    curve = model.calibration["violent_extremism"]
    manifest = read_manifest(exemplar_model)
    assert manifest.params["calibration"]["violent_extremism"] == curve.to_json()
    assert 0 < curve.midpoint < curve.typical < 1
    typical_score = 1 / (1 + math.exp(-(curve.typical - curve.midpoint) / curve.scale))
    assert typical_score == pytest.approx(0.9, abs=1e-4)
    # Every counter-example lies below the midpoint but (at most) one.
    counters = list(model.categories["violent_extremism"].counter_examples)
    sims = model.similarities(model.embed(counters))[:, 0]
    assert (sims >= curve.midpoint).sum() <= 1
    assert manifest.training["labels"] == {
        "violent_extremism": {"exemplars": 10, "counter_examples": 10}
    }
    assert sorted(manifest.files) == [TEXTS, VECTORS]


def test_calibration_on_known_similarities() -> None:
    """Unit vectors at chosen angles: the midpoint falls in the gap between the two groups."""

    def at(degrees: list[float]) -> np.ndarray:
        r = np.radians(degrees)
        return np.stack([np.cos(r), np.sin(r), np.zeros_like(r)], axis=1).astype(np.float32)

    exemplars = at([0, 10, 20, 30])  # nearest other exemplar: 10 degrees away each
    counters = at([80, -70])  # 50 and 70 degrees from the nearest exemplar
    curve = calibrate(exemplars, counters, "x")
    assert curve.typical == pytest.approx(math.cos(math.radians(10)), abs=1e-6)
    gap_middle = (math.cos(math.radians(10)) + math.cos(math.radians(50))) / 2
    assert curve.midpoint == pytest.approx(gap_middle, abs=1e-6)
    alone = calibrate(exemplars, counters[:0], "x")
    assert alone.midpoint == pytest.approx(math.cos(math.radians(10)) - NO_COUNTER_MARGIN, abs=1e-6)
    with pytest.raises(ClassifierError, match="label 'x': the counter-examples come as close"):
        calibrate(exemplars, at([5, 15, 25, 35, 40]), "x")


def test_a_tampered_exemplar_file_is_refused(exemplar_model: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(exemplar_model, tmp_path / "copy"))
    body = json.loads((copy / TEXTS).read_text(encoding="utf-8"))
    body["violent_extremism"]["exemplars"][0] = "[SYNTHETIC] something else"
    (copy / TEXTS).write_text(json.dumps(body), encoding="utf-8")
    with pytest.raises(ClassifierError, match=rf"{copy / TEXTS} has SHA-256"):
        registry.load(copy)


def test_exemplars_command_builds_a_loadable_model(tmp_path: Path, minilm: Encoder) -> None:
    source = tmp_path / "set.yaml"
    source.write_text(
        "threat:\n"
        "  - '[SYNTHETIC] I will hurt you tonight'\n"
        "  - '[SYNTHETIC] we are going to hurt your family'\n"
        "  - '[SYNTHETIC] you will be hurt badly, I promise'\n",
        encoding="utf-8",
    )
    out = tmp_path / "model"
    result = CliRunner().invoke(
        app,
        ["model", "exemplars", str(source), "--out", str(out), "--name", "thr", "--version", "1"],
    )
    assert result.exit_code == 0, result.output
    assert "model written to" in result.output
    model = registry.load(out)
    assert (model.kind, model.name, model.version, model.labels) == (
        "exemplar",
        "thr",
        "1",
        ("threat",),
    )
    scores = model.predict(["[SYNTHETIC] I will hurt you", "[SYNTHETIC] lovely garden photos"])
    assert scores[0, 0] > 0.5 > scores[1, 0]


def test_exemplars_command_reports_every_problem(tmp_path: Path) -> None:
    source = tmp_path / "bad.yaml"
    source.write_text("Bad-Label:\n  - '[SYNTHETIC] a'\nok:\n  exemplars: ['[SYNTHETIC] a']\n")
    result = CliRunner().invoke(
        app, ["model", "exemplars", str(source), "--out", str(tmp_path / "m"), "--name", "m",
              "--version", "1"],
    )  # fmt: skip
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [
        f"{source}:1:1: error: label 'Bad-Label' must match ^[a-z][a-z0-9_]*$ (at Bad-Label)",
        f"{source}:4:3: error: 'ok' has 1 exemplars; at least 3 are needed (at ok.exemplars)",
    ]
    assert not (tmp_path / "m").exists()


THREE = "['[SYNTHETIC] a', '[SYNTHETIC] b', '[SYNTHETIC] c']"
BAD_YAML = [
    ("", "x.yaml:1:1: error: the file is empty; expected a mapping of label -> example texts"),
    (
        "- a\n- b\n",
        "x.yaml:1:1: error: expected a mapping of label -> example texts "
        "(or -> exemplars and counter_examples)",
    ),
    (
        "v:\n  exemplars: ['[SYNTHETIC] a',\n",
        "x.yaml:3:1: error: invalid YAML: expected the node content, but found '<stream end>' "
        "(while parsing a flow node on line 3)",
    ),
    (
        "v:\n  exemplars:\n    - '[SYNTHETIC] a'\n    - ''\n    - 3\n    - '[SYNTHETIC] a'\n"
        "  counter_examples: '[SYNTHETIC] news'\n",
        "x.yaml:4:7: error: exemplars entry 1 must be non-empty text (at v.exemplars[1])\n"
        "x.yaml:5:7: error: exemplars entry 2 must be non-empty text (at v.exemplars[2])\n"
        "x.yaml:6:7: error: exemplars entry 3 repeats entry 0 (at v.exemplars[3])\n"
        "x.yaml:7:3: error: counter_examples of 'v' must be a list of texts (at v.counter_examples)",
    ),
    (
        f"v:\n  exemplars: {THREE}\n  counterexamples: ['[SYNTHETIC] x']\n",
        "x.yaml:3:3: error: unknown key 'counterexamples' for 'v' (expected: exemplars, "
        "counter_examples) (at v.counterexamples)",
    ),
    (
        f"v:\n  exemplars: {THREE}\n  counter_examples: ['', '[SYNTHETIC] b']\n",
        "x.yaml:3:22: error: counter_examples entry 0 must be non-empty text "
        "(at v.counter_examples[0])\n"
        "x.yaml:3:26: error: counter_examples entry 1 is also an exemplar of 'v' "
        "(at v.counter_examples[1])",
    ),
    (
        "v:\n  counter_examples: ['[SYNTHETIC] x']\n",
        "x.yaml:1:1: error: 'v' needs exemplars (at v)",
    ),
    (
        f"v: {THREE}\nv: {THREE}\n",
        "x.yaml:2:1: error: duplicate key 'v': it is already set on line 1; remove one of them",
    ),
    ("v:\n", "x.yaml:1:1: error: exemplars of 'v' must be a list of texts (at v.exemplars)"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_YAML)
def test_bad_exemplar_yaml_is_reported_by_line(text: str, expected: str) -> None:
    with pytest.raises(ClassifierError) as caught:
        parse_exemplars(text, "x.yaml")
    assert str(caught.value) == expected


def test_good_exemplar_yaml_in_both_shapes() -> None:
    parsed = parse_exemplars(
        f"a: {THREE}\nb:\n  exemplars: {THREE}\n  counter_examples: ['  [SYNTHETIC] n  ']\n",
        "x.yaml",
    )
    assert list(parsed) == ["a", "b"]
    assert parsed["a"].counter_examples == ()
    assert parsed["b"].exemplars == ("[SYNTHETIC] a", "[SYNTHETIC] b", "[SYNTHETIC] c")
    assert parsed["b"].counter_examples == ("[SYNTHETIC] n",)
