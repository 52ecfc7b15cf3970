"""`vigil model eval` writes a PNG and a JSON with every figure, and a policy snippet that fits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml
from typer.testing import CliRunner

from tests.classifiers.synthetic import examples, write
from vigil.classifiers.evaluation import label_metrics
from vigil.cli import app

KEYS = {
    "rows", "positives", "threshold", "precision", "recall", "f1", "roc_auc", "pr_auc",
    "recall_at_top_1pct", "recall_at_top_5pct", "target_precision", "threshold_for_target",
    "recall_at_target",
}  # fmt: skip


def test_eval_writes_png_and_json_with_sane_figures(synthetic_model: Path, tmp_path: Path) -> None:
    data = write(tmp_path / "test.jsonl", examples(400, seed=42))
    out = tmp_path / "eval"
    result = CliRunner().invoke(
        app,
        ["model", "eval", str(synthetic_model), str(data), "--out", str(out),
         "--target-precision", "0.95", "--labels", "threat"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (out / "pr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    assert (report["model"], report["version"], report["rows"]) == ("synthetic-threat", "0.1", 400)
    figures = report["labels"]["threat"]
    assert set(figures) == KEYS
    assert figures["positives"] == 200
    assert figures["roc_auc"] > 0.97
    assert figures["pr_auc"] > 0.95
    assert figures["precision"] > 0.9
    assert figures["recall"] > 0.9
    # Half the rows are threats: the top 1% and 5% can hold at most 2% and 10% of them.
    assert 0.015 <= figures["recall_at_top_1pct"] <= 0.02
    assert 0.08 <= figures["recall_at_top_5pct"] <= 0.1
    assert 0 < figures["threshold_for_target"] < 1
    # The printed snippet is a rule condition using that threshold.
    snippet = result.output[result.output.index("  - id: synthetic-threat-threat") :]
    rule = yaml.safe_load(snippet)[0]
    assert rule["when"] == {
        "signals": ["classifier"],
        "classifier": "synthetic-threat",
        "label": "threat",
        "min_score": figures["threshold_for_target"],
    }


def test_threshold_for_target_precision_is_the_lowest_that_reaches_it() -> None:
    y = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 0], dtype=np.int8)
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05], dtype=np.float32)
    m = label_metrics(y, s, threshold=0.55, target=0.75)
    # From 0.6 up: 3 of 4 are threats (precision 0.75, recall 1.0); at 0.5, 3 of 5.
    assert m["threshold_for_target"] == 0.6
    assert m["recall_at_target"] == 1.0
    assert (m["precision"], m["recall"]) == (0.75, 1.0)
    assert m["recall_at_top_1pct"] == round(1 / 3, 4)
    assert m["roc_auc"] == round(20 / 21, 4)
