"""Models built once per session (a trained lexical model, a tiny random transformer) for tests."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.classifiers.synthetic import examples, write
from vigil.classifiers.lexical import LexicalParams
from vigil.classifiers.training import train_file

if TYPE_CHECKING:
    from tests.classifiers.tiny_hf import TinyHF

SMALL = LexicalParams(hash_bits=16, min_df=2, max_features=20_000)


@pytest.fixture(scope="session")
def synthetic_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    data = write(folder / "train.jsonl", examples(300, seed=1))
    out = folder / "synthetic-threat"
    train_file(data, ["threat", "spam"], out, name="synthetic-threat", version="0.1", params=SMALL)
    return out


@pytest.fixture(scope="session")
def tiny_hf(tmp_path_factory: pytest.TempPathFactory) -> TinyHF:
    """A tiny random BERT classifier saved by Hugging Face and exported to ONNX (built once)."""
    from tests.classifiers.tiny_hf import build

    return build(tmp_path_factory.mktemp("tiny-hf"))


@pytest.fixture(scope="session")
def tiny_imported(tiny_hf: TinyHF, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tiny model imported as kind transformers and kind onnx, threat=toxic and hate=2."""
    from vigil.classifiers.hf_import import import_model

    root = tmp_path_factory.mktemp("tiny-imported")
    mapping = {"threat": "toxic", "hate": "2"}
    out = {}
    for kind, source in (("transformers", tiny_hf.hf_dir), ("onnx", tiny_hf.onnx_dir)):
        import_model(source, root / kind, name="tiny", version="1", kind=kind, mapping=mapping)
        out[kind] = root / kind
    return out
