"""Models built once per session on the synthetic sets, for tests that need one of their own.

The neural ones use the real MiniLM encoder (loaded once per process and cached),
so they are kept to a few hundred short texts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.classifiers.synthetic import examples, write
from vigil.classifiers.encoders import Encoder, EncoderRef, encoder_ref_for, load_encoder
from vigil.classifiers.lexical import LexicalParams
from vigil.classifiers.torch_runtime import require_torch
from vigil.classifiers.training import build_exemplars, train_file

if TYPE_CHECKING:
    from tests.classifiers.tiny_hf import TinyHF

SMALL = LexicalParams(hash_bits=16, min_df=2, max_features=20_000)
EXAMPLE_EXEMPLARS = (
    Path(__file__).resolve().parents[2] / "examples/exemplars/violent-extremism.yaml"
)


@pytest.fixture(scope="session")
def synthetic_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    data = write(folder / "train.jsonl", examples(300, seed=1))
    out = folder / "synthetic-threat"
    train_file(data, ["threat", "spam"], out, name="synthetic-threat", version="0.1", params=SMALL)
    return out


@pytest.fixture(scope="session")
def minilm_ref() -> EncoderRef:
    return encoder_ref_for()


@pytest.fixture(scope="session")
def minilm(minilm_ref: EncoderRef) -> Encoder:
    # One thread per xdist worker: with more OpenMP threads than free cores, every op waits
    # on a descheduled thread and encoding ran ~50x slower on a shared 2-core machine.
    require_torch("tests").set_num_threads(1)
    return load_encoder(minilm_ref, device="cpu", precision="fp32")


@pytest.fixture(scope="session")
def embedding_model(tmp_path_factory: pytest.TempPathFactory, minilm: Encoder) -> Path:
    """Embedding heads over MiniLM for the synthetic threat and (random) spam labels."""
    folder = tmp_path_factory.mktemp("embedding")
    data = write(folder / "train.jsonl", examples(300, seed=1))
    out = folder / "synthetic-embed"
    train_file(
        data, ["threat", "spam"], out, name="synthetic-embed", version="0.2", kind="embedding"
    )
    return out


@pytest.fixture(scope="session")
def exemplar_model(tmp_path_factory: pytest.TempPathFactory, minilm: Encoder) -> Path:
    """The shipped example: synthetic violent-extremist propaganda and its counter-examples."""
    out = tmp_path_factory.mktemp("exemplar") / "extremism"
    build_exemplars(EXAMPLE_EXEMPLARS, out, name="extremism", version="0.1")
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
