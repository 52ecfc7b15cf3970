"""Finding and loading models: shipped with the package, or in a local directory.

A model is found by name among the shipped models, or at a path the policy
gives. Its manifest says which loader (``kind``) builds it; every file is checked
against the manifest's SHA-256 before it is read. Loaded models are kept per
process, keyed by directory and manifest digest, so each batch does not reload them.
This module is public: the policy validator reads manifests through it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

from vigil.classifiers.base import Classifier, ClassifierError
from vigil.classifiers.manifest import MANIFEST, Manifest, read_manifest


def _load_lexical(manifest: Manifest) -> Classifier:
    from vigil.classifiers.lexical import LexicalModel  # scikit-learn only when needed

    return LexicalModel.load(manifest)


def _load_embedding(manifest: Manifest) -> Classifier:
    from vigil.classifiers.embedding import EmbeddingModel  # torch only when needed

    return EmbeddingModel.load(manifest)


def _load_exemplar(manifest: Manifest) -> Classifier:
    from vigil.classifiers.exemplar import ExemplarModel

    return ExemplarModel.load(manifest)


def _load_hybrid(manifest: Manifest) -> Classifier:
    from vigil.classifiers.hybrid import HybridModel

    return HybridModel.load(manifest)


def _load_transformers(manifest: Manifest) -> Classifier:
    from vigil.classifiers.transformer import TransformerModel  # torch only when needed

    return TransformerModel.load(manifest)


def _load_onnx(manifest: Manifest) -> Classifier:
    from vigil.classifiers.onnx_model import OnnxModel  # onnxruntime only when needed

    return OnnxModel.load(manifest)


# Each kind of model and how to build it from its verified directory.
LOADERS: dict[str, Callable[[Manifest], Classifier]] = {
    "lexical": _load_lexical,
    "embedding": _load_embedding,
    "exemplar": _load_exemplar,
    "hybrid": _load_hybrid,
    "transformers": _load_transformers,
    "onnx": _load_onnx,
}
KINDS: tuple[str, ...] = tuple(LOADERS)

_cache: dict[tuple[str, str], Classifier] = {}
_lock = threading.Lock()


def shipped_dir() -> Path:
    return Path(str(files("vigil.classifiers").joinpath("shipped")))


def shipped_names() -> list[str]:
    root = shipped_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / MANIFEST).is_file())


def locate(name: str, path: str | None = None, base: Path | None = None) -> Path:
    """The directory of model ``name``: ``path`` (relative to ``base``) or the shipped one."""
    if path is not None:
        target = Path(path).expanduser()
        if not target.is_absolute():
            target = (base or Path.cwd()) / target
        return target
    if name not in shipped_names():
        shipped = ", ".join(shipped_names()) or "none"
        raise ClassifierError(f"no shipped classifier named '{name}' (shipped: {shipped})")
    return shipped_dir() / name


def resolve(model: str) -> Path:
    """A command-line model argument: a directory holding a manifest, else a shipped name."""
    candidate = Path(model).expanduser()
    if (candidate / MANIFEST).is_file():
        return candidate
    return locate(model)


def describe(directory: Path) -> Manifest:
    """The model's manifest, without reading or verifying its weights."""
    return read_manifest(directory)


def load(directory: Path) -> Classifier:
    """The model in ``directory``, verified against its manifest; cached per process."""
    manifest = read_manifest(directory)
    key = (str(directory.resolve()), manifest.sha256)
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
        loader = LOADERS.get(manifest.kind)
        if loader is None:
            raise ClassifierError(
                f"{manifest.name}: unknown model kind '{manifest.kind}' "
                f"(this Vigil loads: {', '.join(KINDS)})"
            )
        manifest.verify()
        model = loader(manifest)
        if tuple(model.labels) != manifest.labels:
            raise ClassifierError(f"{manifest.name}: loaded labels differ from the manifest")
        _cache[key] = model
        return model


def clear_cache() -> None:
    """Forget loaded models and their encoders (tests that rewrite a model directory in place)."""
    from vigil.classifiers import encoders

    with _lock:
        _cache.clear()
    encoders.clear_cache()
