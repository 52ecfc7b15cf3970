"""A local Hugging Face classifier scores like a plain forward pass of the same model, in input order."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.classifiers.test_pipeline import RULE
from tests.classifiers.tiny_hf import MODEL_LABELS, TEXTS, TinyHF
from tests.support.spine import context, item, write_jsonl
from vigil.classifiers import registry
from vigil.classifiers.base import ClassifierError
from vigil.classifiers.hf_import import import_model, parse_mapping
from vigil.classifiers.hf_local import default_activation
from vigil.classifiers.manifest import read_manifest, write_manifest
from vigil.classifiers.torch_runtime import length_batches
from vigil.classifiers.transformer import TransformerModel
from vigil.cli import app
from vigil.ingest.services import ingest_file
from vigil.items.models import Item
from vigil.policy.defaults import default_policy_text
from vigil.policy.models import Verdict
from vigil.signals.models import Signal


def test_scores_match_a_direct_forward_pass(
    tiny_hf: TinyHF, tiny_imported: dict[str, Path]
) -> None:
    """threat=toxic (by name) and hate=2 (by index); multi-label config, so sigmoid."""
    model = registry.load(tiny_imported["transformers"])
    assert (model.kind, model.labels) == ("transformers", ("threat", "hate"))
    params = read_manifest(tiny_imported["transformers"]).params
    # No max_length given: 256, lowered to the tokenizer's 48, so the long text is cut there.
    assert (params["activation"], params["max_length"]) == ("sigmoid", 48)
    scores = model.predict(TEXTS)
    assert scores.dtype == np.float32
    # The texts differ in length, so bucketing reorders them; scores come back in input order.
    np.testing.assert_allclose(scores, tiny_hf.reference(TEXTS, [0, 2], "sigmoid"), atol=1e-5)
    assert model.predict([]).shape == (0, 2)


def test_bucketed_batches_equal_one_text_at_a_time(tiny_imported: dict[str, Path]) -> None:
    manifest = read_manifest(tiny_imported["transformers"])
    model = TransformerModel.load(manifest, device="cpu", max_tokens=40)
    texts = TEXTS * 3
    lengths = [len(ids) for ids in model._tokenizer(texts, truncation=True)["input_ids"]]
    assert len(length_batches(lengths, max_tokens=40)) > 5
    batched = model.predict(texts)
    single = np.vstack([model.predict([t]) for t in texts])
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_softmax_reads_the_mapped_class_probability(tiny_hf: TinyHF, tmp_path: Path) -> None:
    import_model(
        tiny_hf.hf_dir,
        tmp_path / "m",
        name="tiny-softmax",
        version="1",
        kind="transformers",
        mapping={"insult": "insult", "threat": "0"},
        activation="softmax",
    )
    scores = registry.load(tmp_path / "m").predict(TEXTS)
    np.testing.assert_allclose(scores, tiny_hf.reference(TEXTS, [1, 0], "softmax"), atol=1e-5)
    sigmoid = tiny_hf.reference(TEXTS, [1, 0], "sigmoid")
    assert np.abs(scores - sigmoid).max() > 0.05


def test_the_default_activation_follows_the_problem_type() -> None:
    assert default_activation({"problem_type": "multi_label_classification"}, 6) == "sigmoid"
    assert default_activation({"problem_type": "single_label_classification"}, 2) == "softmax"
    assert default_activation({}, 2) == "softmax"
    assert default_activation({}, 1) == "sigmoid"
    with pytest.raises(ClassifierError, match="give the activation"):
        default_activation({"problem_type": "regression"}, 1)


def test_bf16_on_cpu_stays_close_to_fp32(tiny_imported: dict[str, Path]) -> None:
    """Stand-in for CUDA, which runs bf16: the tiny model's scores move by about 4e-5."""
    manifest = read_manifest(tiny_imported["transformers"])
    fp32 = TransformerModel.load(manifest, device="cpu", precision="fp32")
    bf16 = TransformerModel.load(manifest, device="cpu", precision="bf16")
    assert (fp32.dtype, bf16.dtype) == ("float32", "bfloat16")
    a, b = fp32.predict(TEXTS), bf16.predict(TEXTS)
    assert 0 < np.abs(a - b).max() < 2e-3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_bf16_matches_cpu(tiny_imported: dict[str, Path]) -> None:
    manifest = read_manifest(tiny_imported["transformers"])
    cpu = TransformerModel.load(manifest, device="cpu")
    cuda = TransformerModel.load(manifest, device="cuda")
    assert (cuda.device, cuda.dtype) == ("cuda", "bfloat16")
    np.testing.assert_allclose(cuda.predict(TEXTS * 20), cpu.predict(TEXTS * 20), atol=2e-3)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (
            {"threat": "nope"},
            "no output 'nope' \\(its outputs: 0=toxic, 1=insult, 2=identity_hate\\)",
        ),
        ({"threat": "3"}, "no output '3'"),
        ({"Threat": "toxic"}, "must match"),
        ({}, "map at least one label"),
    ],
)
def test_a_bad_mapping_is_refused_and_leaves_nothing(
    tiny_hf: TinyHF, tmp_path: Path, mapping: dict[str, str], message: str
) -> None:
    with pytest.raises(ClassifierError, match=message):
        import_model(
            tiny_hf.hf_dir,
            tmp_path / "m",
            name="m",
            version="1",
            kind="transformers",
            mapping=mapping,
        )
    assert not (tmp_path / "m").exists()


def test_label_pairs_are_parsed_strictly() -> None:
    assert parse_mapping(["threat=toxic", " hate = 2 "]) == {"threat": "toxic", "hate": "2"}
    with pytest.raises(ClassifierError, match="VIGIL_LABEL=MODEL_LABEL"):
        parse_mapping(["threat"])
    with pytest.raises(ClassifierError, match="mapped twice"):
        parse_mapping(["threat=toxic", "threat=insult"])


@pytest.mark.parametrize(
    ("max_length", "message"),
    [(60, "exceeds the tokenizer's limit of 48"), (512, "exceeds the model's 64 positions")],
)
def test_a_max_length_beyond_the_model_is_refused(
    tiny_hf: TinyHF, tmp_path: Path, max_length: int, message: str
) -> None:
    with pytest.raises(ClassifierError, match=message):
        import_model(
            tiny_hf.hf_dir,
            tmp_path / "m",
            name="m",
            version="1",
            kind="transformers",
            mapping={"threat": "toxic"},
            max_length=max_length,
        )
    assert not (tmp_path / "m").exists()


def _copy(imported: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(imported, target)
    registry.clear_cache()
    return target


def test_tampered_weights_are_refused(tiny_imported: dict[str, Path], tmp_path: Path) -> None:
    target = _copy(tiny_imported["transformers"], tmp_path)
    weights = target / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(ClassifierError, match="refusing to load a modified model"):
        registry.load(target)


def test_a_file_the_manifest_does_not_hash_is_refused(
    tiny_imported: dict[str, Path], tmp_path: Path
) -> None:
    target = _copy(tiny_imported["transformers"], tmp_path)
    (target / "added_tokens.json").write_text('{"kill": 5}', encoding="utf-8")
    with pytest.raises(ClassifierError, match=r"added_tokens\.json .* not listed in its manifest"):
        registry.load(target)


def test_pickle_weights_are_never_imported(tiny_hf: TinyHF, tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(tiny_hf.hf_dir, source)
    (source / "pytorch_model.bin").write_bytes(b"\x80\x04pickle")
    result = import_model(
        source, tmp_path / "both", name="m", version="1", kind="transformers", mapping={"t": "0"}
    )
    assert "pickle" in result.skipped["pytorch_model.bin"]
    assert "pytorch_model.bin" not in result.manifest.files
    assert not (tmp_path / "both" / "pytorch_model.bin").exists()
    (source / "model.safetensors").unlink()
    with pytest.raises(ClassifierError, match=r"pytorch_model\.bin is pickle-based and refused"):
        import_model(
            source, tmp_path / "bin", name="m", version="1", kind="transformers", mapping={"t": "0"}
        )


def test_a_manifest_that_lists_pickle_weights_is_refused(
    tiny_imported: dict[str, Path], tmp_path: Path
) -> None:
    target = _copy(tiny_imported["transformers"], tmp_path)
    m = read_manifest(target)
    (target / "pytorch_model.bin").write_bytes(b"\x80\x04pickle")
    write_manifest(
        target,
        name=m.name,
        version=m.version,
        kind=m.kind,
        labels=m.labels,
        files=[*m.files, "pytorch_model.bin"],
        params=m.params,
        training=m.training,
    )
    with pytest.raises(ClassifierError, match=r"pytorch_model\.bin would be unpickled"):
        registry.load(target)


def test_import_command_writes_a_loadable_model(tiny_hf: TinyHF, tmp_path: Path) -> None:
    out = tmp_path / "cli-model"
    args = [
        "model", "import", str(tiny_hf.hf_dir), "--out", str(out), "--name", "cli-tiny",
        "--version", "2", "--kind", "transformers", "--label", "threat=toxic",
        "--label", "hate=identity_hate", "--max-length", "32",
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    manifest = read_manifest(out)
    assert manifest.sha256 in result.output
    assert "kind: transformers" in result.output
    assert manifest.params == {
        "activation": "sigmoid",
        "max_length": 32,
        "model_labels": list(MODEL_LABELS),
        "outputs": {"threat": 0, "hate": 2},
    }
    assert sorted(manifest.files) == sorted(p.name for p in tiny_hf.hf_dir.iterdir())
    model = registry.load(out)
    assert (model.name, model.version, model.labels) == ("cli-tiny", "2", ("threat", "hate"))
    # A second import into the same directory is refused; an unknown label lists the model's.
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 2
    assert "already exists and is not empty" in again.output
    bad = CliRunner().invoke(
        app, [*args[:4], str(tmp_path / "other"), *args[5:], "--label", "x=nope"]
    )
    assert bad.exit_code == 2
    assert "0=toxic, 1=insult, 2=identity_hate" in " ".join(bad.output.split())


def test_a_transformers_model_declared_by_path_raises_signals_at_ingest(
    engine: Engine, tmp_path: Path, tiny_imported: dict[str, Path]
) -> None:
    shutil.copytree(tiny_imported["transformers"], tmp_path / "models" / "tiny")
    threat = registry.load(tiny_imported["transformers"]).predict(TEXTS)[:, 0]
    high, low = TEXTS[int(threat.argmax())], TEXTS[int(threat.argmin())]
    floor = round(float(threat.max() + threat.min()) / 2, 6)
    rule = RULE.replace("synthetic-threat", "tiny").replace("0.6", f"{floor}")
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        default_policy_text().replace("\nrules:\n", "\nrules:\n" + rule, 1)
        + '\nclassifiers:\n  tiny:\n    kind: transformers\n    path: models/tiny\n    version: "1"\n',
        encoding="utf-8",
    )
    data = write_jsonl(tmp_path / "items.jsonl", [item("hi", high), item("lo", low)])
    summary = ingest_file(engine, data, context(engine, policy))
    assert summary.outcome.cases_opened == 1
    with Session(engine) as session:
        signal = session.scalars(select(Signal)).one()
        flagged = session.get(Item, signal.item_id)
        assert flagged is not None
        assert flagged.platform_item_id == "hi"
        assert (signal.kind, signal.matched, signal.model, signal.model_version) == (
            "classifier",
            "threat",
            "tiny",
            "1",
        )
        assert signal.score == pytest.approx(float(threat.max()), abs=1e-6)
        assert session.scalars(select(Verdict)).one().rule_id == "threat-model"
