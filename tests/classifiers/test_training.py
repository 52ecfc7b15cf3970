"""Training learns the synthetic threat label, not noise, and bad rows never stop it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from tests.classifiers.conftest import SMALL
from tests.classifiers.synthetic import examples, write
from vigil.classifiers import registry
from vigil.classifiers.base import ClassifierError
from vigil.classifiers.data import read_labelled
from vigil.classifiers.training import train_file
from vigil.cli import app


def test_a_trained_model_separates_threats_on_unseen_texts(synthetic_model: Path) -> None:
    model = registry.load(synthetic_model)
    held_out = examples(200, seed=99)
    scores = model.predict([str(r["text"]) for r in held_out])
    threat = np.array([r["threat"] for r in held_out])
    spam = np.array([r["spam"] for r in held_out])
    assert scores.shape == (200, 2)
    assert roc_auc_score(threat, scores[:, model.labels.index("threat")]) > 0.97
    # The spam label was random: nothing real to learn, so no real separation either.
    assert roc_auc_score(spam, scores[:, model.labels.index("spam")]) < 0.75
    assert float(scores.min()) >= 0.0
    assert float(scores.max()) <= 1.0


def test_bad_jsonl_rows_are_reported_by_line_and_skipped(tmp_path: Path) -> None:
    rows = [json.dumps(r) for r in examples(120, seed=3)]
    rows.insert(4, "{not json")
    rows.insert(9, json.dumps({"threat": 1}))
    rows.insert(14, json.dumps({"text": "[SYNTHETIC] fine", "threat": 2}))
    rows.insert(19, json.dumps({"text": "[SYNTHETIC] unlabelled"}))
    rows.insert(24, json.dumps(["a", "list"]))
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    data = read_labelled(path, ["threat"])
    assert [(p.line, p.message) for p in data.problems] == [
        (5, "not valid JSON (Expecting property name enclosed in double quotes)"),
        (10, "'text' is missing or empty"),
        (15, "'threat' must be 0, 1 or empty"),
        (20, "no label is given"),
        (25, "not a JSON object"),
    ]
    assert len(data.texts) == 120
    result = train_file(path, ["threat"], tmp_path / "m", name="m", version="1", params=SMALL)
    assert result.manifest.training["skipped_rows"] == 5


def test_csv_rows_are_reported_by_their_first_line(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(
        'text,threat,hate\n"[SYNTHETIC] two\nlines",1,\n,0,0\n"[SYNTHETIC] ok",maybe,0\n'
        '"[SYNTHETIC] fine",0,1\n',
        encoding="utf-8",
    )
    data = read_labelled(path, ["threat", "hate"])
    assert [(p.line, p.message) for p in data.problems] == [
        (4, "'text' is missing or empty"),
        (5, "'threat' must be 0, 1 or empty"),
    ]
    # An empty cell is an unknown label, not a negative one.
    assert data.targets.tolist() == [[1, -1], [0, 1]]


def test_train_command_writes_a_loadable_model_and_reports_bad_rows(tmp_path: Path) -> None:
    rows = [json.dumps(r) for r in examples(150, seed=5)]
    rows.insert(2, "{oops")
    data = tmp_path / "train.jsonl"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "model"
    result = CliRunner().invoke(
        app,
        [
            "model", "train", str(data), "--labels", "threat", "--out", str(out),
            "--name", "cli-model", "--version", "3", "--min-df", "2",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"skipped {data}:3: not valid JSON" in result.output.splitlines()[0]
    model = registry.load(out)
    assert (model.name, model.version, model.labels) == ("cli-model", "3", ("threat",))


def test_a_label_without_both_classes_is_refused(tmp_path: Path) -> None:
    rows = [{"text": f"[SYNTHETIC] text {i}", "threat": 0} for i in range(20)]
    path = write(tmp_path / "d.jsonl", rows)
    with pytest.raises(ClassifierError, match="both positive and negative"):
        train_file(path, ["threat"], tmp_path / "m", name="m", version="1", params=SMALL)
