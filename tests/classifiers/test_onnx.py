"""An ONNX export scores like the PyTorch model it came from, fed only the inputs its graph declares."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from tests.classifiers.tiny_hf import TEXTS, TinyHF
from vigil.classifiers import registry
from vigil.classifiers.base import ClassifierError
from vigil.classifiers.hf_import import import_model
from vigil.classifiers.manifest import read_manifest
from vigil.classifiers.onnx_model import OnnxModel


def test_onnx_matches_the_torch_model(tiny_hf: TinyHF, tiny_imported: dict[str, Path]) -> None:
    model = registry.load(tiny_imported["onnx"])
    assert isinstance(model, OnnxModel)
    assert model.feeds == ("input_ids", "attention_mask", "token_type_ids")
    assert model.providers == ["CPUExecutionProvider"]
    scores = model.predict(TEXTS)
    np.testing.assert_allclose(
        scores, registry.load(tiny_imported["transformers"]).predict(TEXTS), atol=1e-4
    )
    np.testing.assert_allclose(scores, tiny_hf.reference(TEXTS, [0, 2], "sigmoid"), atol=1e-4)


def test_bucketed_batches_equal_one_text_at_a_time(tiny_imported: dict[str, Path]) -> None:
    model = OnnxModel.load(read_manifest(tiny_imported["onnx"]), device="cpu", max_tokens=40)
    texts = TEXTS * 3
    batched = model.predict(texts)
    single = np.vstack([model.predict([t]) for t in texts])
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_a_graph_without_token_type_ids_is_fed_only_what_it_declares(
    tiny_hf: TinyHF, tmp_path: Path
) -> None:
    import_model(
        tiny_hf.onnx_two_inputs_dir,
        tmp_path / "m",
        name="two",
        version="1",
        kind="onnx",
        mapping={"insult": "insult"},
        activation="softmax",
    )
    model = registry.load(tmp_path / "m")
    assert isinstance(model, OnnxModel)
    assert model.feeds == ("input_ids", "attention_mask")
    np.testing.assert_allclose(
        model.predict(TEXTS), tiny_hf.reference(TEXTS, [1], "softmax"), atol=1e-4
    )


def test_without_config_outputs_are_named_by_index(tiny_hf: TinyHF, tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(tiny_hf.onnx_dir, source)
    (source / "config.json").unlink()
    with pytest.raises(ClassifierError, match=r"its outputs: 0=0, 1=1, 2=2"):
        import_model(
            source, tmp_path / "bad", name="m", version="1", kind="onnx", mapping={"t": "toxic"}
        )
    result = import_model(
        source, tmp_path / "m", name="m", version="1", kind="onnx", mapping={"t": "0"}
    )
    # Three outputs and no problem_type: softmax, as HF's pipeline would use.
    assert result.head.activation == "softmax"
    np.testing.assert_allclose(
        registry.load(tmp_path / "m").predict(TEXTS),
        tiny_hf.reference(TEXTS, [0], "softmax"),
        atol=1e-4,
    )


def test_a_graph_with_other_inputs_is_refused(tiny_hf: TinyHF, tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(tiny_hf.onnx_dir, source)
    graph = helper.make_graph(
        [helper.make_node("Identity", ["pixel_values"], ["logits"])],
        "image",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])],
    )
    onnx.save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), source / "model.onnx"
    )
    with pytest.raises(ClassifierError, match="the graph needs inputs pixel_values"):
        import_model(source, tmp_path / "m", name="m", version="1", kind="onnx", mapping={"t": "0"})
    assert not (tmp_path / "m").exists()


def test_a_tampered_graph_is_refused(tiny_imported: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "copy"
    shutil.copytree(tiny_imported["onnx"], target)
    registry.clear_cache()
    graph = target / "model.onnx"
    data = bytearray(graph.read_bytes())
    data[len(data) // 2] ^= 0x01
    graph.write_bytes(bytes(data))
    with pytest.raises(ClassifierError, match="refusing to load a modified model"):
        registry.load(target)


def test_an_onnx_import_copies_only_the_graph_it_runs(tiny_hf: TinyHF, tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(tiny_hf.onnx_dir, source)
    shutil.copyfile(tiny_hf.hf_dir / "model.safetensors", source / "model.safetensors")
    shutil.copyfile(source / "model.onnx", source / "model_quantized.onnx")
    (source / "onnx").mkdir()
    result = import_model(
        source, tmp_path / "m", name="m", version="1", kind="onnx", mapping={"t": "0"}
    )
    assert sorted(result.skipped) == ["model.safetensors", "model_quantized.onnx", "onnx"]
    assert sorted(result.manifest.files) == sorted(p.name for p in tiny_hf.onnx_dir.iterdir())
