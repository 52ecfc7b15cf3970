"""Embedding heads learn the synthetic threat label over MiniLM, and load only as written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from tests.classifiers.synthetic import examples, write
from vigil.classifiers import registry
from vigil.classifiers.base import ClassifierError
from vigil.classifiers.embedding import HEADS, EmbeddingModel
from vigil.classifiers.encoders import DEFAULT_ENCODER, Encoder, EncoderRef, package_dir
from vigil.classifiers.manifest import file_sha256, read_manifest
from vigil.classifiers.training import train_file
from vigil.cli import app


def _held_out() -> tuple[list[str], np.ndarray, np.ndarray]:
    rows = examples(200, seed=99)
    texts = [str(r["text"]) for r in rows]
    return texts, np.array([r["threat"] for r in rows]), np.array([r["spam"] for r in rows])


def test_heads_separate_threats_on_unseen_texts(embedding_model: Path) -> None:
    model = registry.load(embedding_model)
    assert isinstance(model, EmbeddingModel)
    assert (model.name, model.version, model.kind) == ("synthetic-embed", "0.2", "embedding")
    texts, threat, spam = _held_out()
    scores = model.predict(texts)
    assert scores.shape == (200, 2)
    assert scores.dtype == np.float32
    assert roc_auc_score(threat, scores[:, model.labels.index("threat")]) > 0.97
    # Clear margin between the classes, not just a good ranking.
    column = scores[:, 0]
    assert np.median(column[threat == 1]) > 0.8
    assert np.median(column[threat == 0]) < 0.2
    # The spam label was random: nothing real to learn, so no real separation either.
    assert roc_auc_score(spam, scores[:, model.labels.index("spam")]) < 0.75


def test_precomputed_embeddings_score_the_same(embedding_model: Path, minilm: Encoder) -> None:
    model = registry.load(embedding_model)
    assert isinstance(model, EmbeddingModel)
    texts = _held_out()[0][:20]
    np.testing.assert_allclose(
        model.predict_embeddings(minilm.encode(texts)), model.predict(texts), atol=1e-6
    )
    assert model.predict([]).shape == (0, 2)
    with pytest.raises(ClassifierError, match=r"do not come from its encoder \(384 dimensions\)"):
        model.predict_embeddings(np.zeros((2, 10), dtype=np.float32))


def test_manifest_records_the_encoder_and_the_same_training_gives_the_same_bytes(
    embedding_model: Path, tmp_path: Path, minilm_ref: EncoderRef
) -> None:
    manifest = read_manifest(embedding_model)
    assert (manifest.kind, manifest.labels, list(manifest.files)) == (
        "embedding",
        ("threat", "spam"),
        [HEADS],
    )
    assert manifest.params["encoder"] == minilm_ref.to_json()
    assert manifest.params["dim"] == 384
    assert manifest.training["rows"] == 300
    # A second training run on the same data writes identical heads.
    data = write(tmp_path / "train.jsonl", examples(300, seed=1))
    again = train_file(
        data, ["threat", "spam"], tmp_path / "m", name="synthetic-embed", version="0.2",
        kind="embedding",
    )  # fmt: skip
    assert again.manifest.files == manifest.files
    assert again.manifest.sha256 == manifest.sha256


def test_registry_caches_and_a_tampered_heads_file_is_refused(
    embedding_model: Path, tmp_path: Path
) -> None:
    assert registry.load(embedding_model) is registry.load(embedding_model)
    copy = Path(shutil.copytree(embedding_model, tmp_path / "copy"))
    heads = copy / HEADS
    data = bytearray(heads.read_bytes())
    data[len(data) // 2] ^= 1
    heads.write_bytes(bytes(data))
    with pytest.raises(ClassifierError, match=rf"{heads} has SHA-256 [0-9a-f]{{64}}, but the"):
        registry.load(copy)


def test_a_model_with_a_tampered_encoder_is_refused(tmp_path: Path, minilm: Encoder) -> None:
    """A model trained on an encoder directory pins it; changing one byte there stops the load."""
    encoder = Path(shutil.copytree(package_dir(DEFAULT_ENCODER), tmp_path / "encoder"))
    data = write(tmp_path / "train.jsonl", examples(40, seed=4))
    out = tmp_path / "model"
    train_file(data, ["threat"], out, name="m", version="1", kind="embedding", encoder=encoder)
    assert read_manifest(out).params["encoder"]["path"] == "../encoder"
    # Model and encoder move together.
    shutil.move(tmp_path / "model", tmp_path / "moved" / "model")
    shutil.move(tmp_path / "encoder", tmp_path / "moved" / "encoder")
    moved = tmp_path / "moved" / "model"
    assert registry.load(moved).labels == ("threat",)
    registry.clear_cache()
    config = tmp_path / "moved" / "encoder" / "config.json"
    text = json.loads(config.read_text(encoding="utf-8"))
    text["hidden_dropout_prob"] = 0.2
    config.write_text(json.dumps(text), encoding="utf-8")
    with pytest.raises(
        ClassifierError, match=rf"{config} has SHA-256 [0-9a-f]{{64}}, but the model"
    ):
        registry.load(moved)
    registry.clear_cache()


def test_train_command_builds_an_embedding_model(tmp_path: Path, minilm: Encoder) -> None:
    data = write(tmp_path / "train.jsonl", examples(60, seed=6))
    out = tmp_path / "model"
    result = CliRunner().invoke(
        app,
        [
            "model", "train", str(data), "--labels", "threat", "--out", str(out),
            "--name", "cli-embed", "--version", "2", "--kind", "embedding",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "cli-embed 2 (embedding)" in result.output
    model = registry.load(out)
    assert (model.kind, model.name, model.labels) == ("embedding", "cli-embed", ("threat",))
    assert file_sha256(out / HEADS) == read_manifest(out).files[HEADS]


def test_train_command_refuses_an_unknown_encoder(tmp_path: Path) -> None:
    data = write(tmp_path / "train.jsonl", examples(20, seed=6))
    result = CliRunner().invoke(
        app,
        [
            "model", "train", str(data), "--labels", "threat", "--out", str(tmp_path / "m"),
            "--name", "m", "--version", "1", "--kind", "embedding", "--encoder", "bert_base",
        ],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "error: unknown encoder 'bert_base'" in result.output
