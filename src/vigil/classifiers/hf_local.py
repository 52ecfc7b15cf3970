"""Local Hugging Face model directories: what the ``transformers`` and ``onnx`` kinds share.

Teams run their own detoxify-, Llama-Guard- or similar sequence classifiers.
``vigil model import`` copies such a model into a directory and hashes every
file; both runtimes then read it the same way. This module holds what they share,
so the two kinds cannot drift apart: which files a model directory may hold, how
Vigil's labels map onto the model's outputs (the :class:`Head`, stored in the
manifest's params), and tokenising once, padding and length-bucketed batching.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vigil.classifiers.base import ClassifierError, NamedModel, Scores, check_scores
from vigil.classifiers.manifest import MANIFEST, Manifest
from vigil.classifiers.torch_runtime import DEFAULT_MAX_BATCH, length_batches, stay_offline

CONFIG = "config.json"
ACTIVATIONS = ("sigmoid", "softmax")
# The inputs a sequence classifier takes from its tokenizer; nothing else is ever fed.
FEEDS = ("input_ids", "attention_mask", "token_type_ids")
# Weights saved with pickle run code when loaded, so they are never copied or read.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib")
# Padded tokens per CPU batch. A CPU gains little from more rows, and bigger budgets let
# short texts share a batch with (and pad to) long ones: 8k tokens was slower than 2k on
# MiniLM (bench/classifier_models.py). CUDA batches use the shared, larger budget.
CPU_MAX_TOKENS = 2_048
# A tokenizer that reports no real limit says a huge number instead.
_NO_LIMIT = 1_000_000


def require_transformers(feature: str) -> ModuleType:
    """``transformers``, set never to reach a hub, or an error that names the extra."""
    stay_offline()
    try:
        import transformers
    except ImportError as exc:  # pragma: no cover - the test suite installs the extra
        raise ClassifierError(
            f"{feature} needs the optional ml extra: pip install 'vigil[ml]'"
        ) from exc
    # Progress bars on every model load are noise in a service's logs.
    hf_logging: Any = transformers.utils.logging
    hf_logging.disable_progress_bar()
    return transformers


def read_config(directory: Path) -> dict[str, Any]:
    """The model's config.json, read as plain JSON (no code runs)."""
    try:
        data = json.loads((directory / CONFIG).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ClassifierError(f"{directory / CONFIG}: cannot read ({exc.strerror})") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ClassifierError(f"{directory / CONFIG}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ClassifierError(f"{directory / CONFIG}: not a JSON object")
    return data


def config_labels(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The model's output names in index order: ``id2label``, else ``LABEL_i`` as HF names them."""
    id2label = config.get("id2label")
    if isinstance(id2label, dict) and id2label:
        try:
            by_index = {int(k): str(v) for k, v in id2label.items()}
        except ValueError as exc:
            raise ClassifierError(f"config id2label has a non-integer id: {exc}") from exc
        if sorted(by_index) != list(range(len(by_index))):
            raise ClassifierError("config id2label ids must run 0..n-1")
        return tuple(by_index[i] for i in range(len(by_index)))
    count = config.get("num_labels", 2)
    if not isinstance(count, int) or count < 1:
        raise ClassifierError("config gives neither id2label nor a positive num_labels")
    return tuple(f"LABEL_{i}" for i in range(count))


def default_activation(config: Mapping[str, Any], n_outputs: int) -> str:
    """What the model was trained for, the way HF's text-classification pipeline decides it."""
    problem = config.get("problem_type")
    if problem == "multi_label_classification" or (problem is None and n_outputs == 1):
        return "sigmoid"
    if problem == "single_label_classification" or problem is None:
        return "softmax"
    raise ClassifierError(
        f"the model's problem_type is '{problem}': give the activation (sigmoid or softmax)"
    )


def resolve_outputs(mapping: Mapping[str, str], model_labels: Sequence[str]) -> dict[str, int]:
    """Each Vigil label's output index; a model label is named by its id2label name or index."""
    listed = ", ".join(f"{i}={name}" for i, name in enumerate(model_labels))
    outputs: dict[str, int] = {}
    for label, target in mapping.items():
        if target in model_labels:
            outputs[label] = list(model_labels).index(target)
        elif target.isascii() and target.isdigit() and int(target) < len(model_labels):
            outputs[label] = int(target)
        else:
            raise ClassifierError(
                f"'{label}={target}': the model has no output '{target}' (its outputs: {listed})"
            )
    return outputs


@dataclass(frozen=True)
class Head:
    """How the model's logits become Vigil scores: which outputs, through which activation.

    Softmax is taken over all of the model's outputs and then the mapped class
    is read, so a binary or Llama-Guard-style head scores like the model meant.
    """

    outputs: tuple[int, ...]
    model_labels: tuple[str, ...]
    activation: str
    max_length: int

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ClassifierError(
                f"activation '{self.activation}' is not one of {', '.join(ACTIVATIONS)}"
            )
        if self.activation == "softmax" and len(self.model_labels) < 2:
            raise ClassifierError("softmax over a single output is always 1; use sigmoid")
        if not all(0 <= i < len(self.model_labels) for i in self.outputs):
            raise ClassifierError(f"output indexes {self.outputs} outside the model's outputs")
        if self.max_length < 1:
            raise ClassifierError("max_length must be positive")

    def to_params(self, labels: Sequence[str]) -> dict[str, Any]:
        return {
            "activation": self.activation,
            "max_length": self.max_length,
            "model_labels": list(self.model_labels),
            "outputs": dict(zip(labels, self.outputs, strict=True)),
        }

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> Head:
        params = manifest.params
        try:
            outputs = params["outputs"]
            if not isinstance(outputs, dict) or set(outputs) != set(manifest.labels):
                raise ValueError("outputs must give an index for each label")
            return cls(
                outputs=tuple(int(outputs[label]) for label in manifest.labels),
                model_labels=tuple(str(x) for x in params["model_labels"]),
                activation=str(params["activation"]),
                max_length=int(params["max_length"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ClassifierError(f"{manifest.name}: label mapping in params: {exc}") from exc

    def scores(self, logits: NDArray[np.float32]) -> Scores:
        if logits.ndim != 2 or logits.shape[1] != len(self.model_labels):
            raise ClassifierError(
                f"model returned logits of shape {logits.shape}, "
                f"expected (rows, {len(self.model_labels)})"
            )
        z = logits.astype(np.float64)
        if self.activation == "sigmoid":
            p = 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))
        else:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
        return p[:, list(self.outputs)].astype(np.float32)


def refuse_unlisted(manifest: Manifest) -> None:
    """Refuse files the manifest does not hash: transformers and ORT read more than they are told.

    A tokenizer picks up added_tokens.json, an ONNX graph its external data, a
    config its generation settings. Only a directory holding exactly the hashed
    files is known to load what was imported.
    """
    listed = set(manifest.files) | {MANIFEST}
    extra = sorted(p.name for p in manifest.directory.iterdir() if p.name not in listed)
    if extra:
        raise ClassifierError(
            f"{manifest.name}: {', '.join(extra)} in {manifest.directory} "
            "not listed in its manifest; refusing to load (re-run vigil model import)"
        )
    pickled = sorted(f for f in manifest.files if f.lower().endswith(PICKLE_SUFFIXES))
    if pickled:
        raise ClassifierError(
            f"{manifest.name}: {', '.join(pickled)} would be unpickled; only safetensors "
            "or ONNX weights are loaded"
        )


def load_tokenizer(manifest: Manifest) -> Any:
    """The model's tokenizer, from its directory only, with no code from the directory."""
    transformers = require_transformers(f"the {manifest.kind} model {manifest.name}")
    try:
        return transformers.AutoTokenizer.from_pretrained(
            str(manifest.directory), local_files_only=True, trust_remote_code=False
        )
    except Exception as exc:  # any failure in a third-party loader means the same to us
        raise ClassifierError(f"{manifest.name}: cannot load its tokenizer: {exc}") from exc


class LocalHFModel(NamedModel, ABC):
    """Tokenise once, batch by length, run the runtime's forward pass, restore input order.

    Subclasses give ``kind`` and ``_forward`` (padded integer arrays in, float32
    logits out). A tokenizer without a pad token (many decoder models) cannot
    pad a batch, so its texts run one at a time.
    """

    kind = ""

    def __init__(
        self,
        manifest: Manifest,
        head: Head,
        tokenizer: Any,
        feeds: Sequence[str],
        *,
        max_tokens: int,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        limit = getattr(tokenizer, "model_max_length", None)
        if isinstance(limit, int) and limit < _NO_LIMIT and head.max_length > limit:
            raise ClassifierError(
                f"{manifest.name}: max_length {head.max_length} exceeds the tokenizer's "
                f"limit of {limit} tokens"
            )
        super().__init__(manifest.name, manifest.version, manifest.labels)
        self.head, self._tokenizer, self.feeds = head, tokenizer, tuple(feeds)
        self._pad_id: int | None = tokenizer.pad_token_id
        self._pad_type = int(getattr(tokenizer, "pad_token_type_id", 0) or 0)
        self._left = getattr(tokenizer, "padding_side", "right") == "left"
        self.max_tokens = max_tokens
        # A fast tokenizer sets its truncation on each call and fails ("Already borrowed")
        # if two threads call it at once; a cached model is shared by the process's threads.
        self._tokenizing = threading.Lock()
        self.max_batch = max_batch if self._pad_id is not None else 1

    @abstractmethod
    def _forward(self, batch: dict[str, NDArray[np.int64]]) -> NDArray[np.float32]:
        """Logits ``(rows, model outputs)`` for one padded batch."""

    def predict(self, texts: Sequence[str]) -> Scores:
        n = len(texts)
        out = np.zeros((n, len(self._labels)), dtype=np.float32)
        if not n:
            return out
        with self._tokenizing:
            encoded = self._tokenizer(list(texts), truncation=True, max_length=self.head.max_length)
        ids: list[list[int]] = encoded["input_ids"]
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=n)
        for rows in length_batches(lengths, max_tokens=self.max_tokens, max_batch=self.max_batch):
            batch = self._pad(encoded, rows, max(int(lengths[rows].max()), 1))
            out[rows] = self.head.scores(self._forward(batch))
        return check_scores(out, n, len(self._labels))

    def _pad(
        self, encoded: Mapping[str, list[list[int]]], rows: NDArray[np.int64], width: int
    ) -> dict[str, NDArray[np.int64]]:
        """The batch's rows padded to ``width``, on the side the tokenizer pads."""
        fill = {
            "input_ids": self._pad_id or 0,
            "attention_mask": 0,
            "token_type_ids": self._pad_type,
        }
        batch = {k: np.full((len(rows), width), fill[k], dtype=np.int64) for k in self.feeds}
        for r, i in enumerate(rows.tolist()):
            size = len(encoded["input_ids"][i])
            cols = slice(width - size, width) if self._left else slice(0, size)
            for key, array in batch.items():
                if key == "attention_mask" and key not in encoded:
                    array[r, cols] = 1
                elif key in encoded:
                    array[r, cols] = encoded[key][i]
        return batch
