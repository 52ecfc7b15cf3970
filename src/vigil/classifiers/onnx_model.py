"""The ``onnx`` kind: a sequence classifier exported to ONNX, run by ONNX Runtime.

The directory holds ``model.onnx`` (and any external weight files it names),
the tokenizer files and, usually, config.json for the output names. Only the
inputs the graph declares among input_ids, attention_mask and token_type_ids are
fed; a graph that wants anything else is refused at load. Batches are bucketed
by length like the transformers kind, so the export needs dynamic batch and
sequence axes. Precision is whatever the export holds.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vigil.classifiers.base import ClassifierError
from vigil.classifiers.hf_local import (
    CPU_MAX_TOKENS,
    FEEDS,
    Head,
    LocalHFModel,
    load_tokenizer,
    refuse_unlisted,
)
from vigil.classifiers.manifest import Manifest
from vigil.classifiers.torch_runtime import DEFAULT_MAX_TOKENS

KIND = "onnx"
GRAPH = "model.onnx"
_INT_TYPES = {"tensor(int64)": np.int64, "tensor(int32)": np.int32}


def require_onnxruntime(feature: str) -> ModuleType:
    try:
        import onnxruntime
    except ImportError as exc:  # pragma: no cover - the test suite installs the extra
        raise ClassifierError(
            f"{feature} needs the optional ml extra: pip install 'vigil[ml]'"
        ) from exc
    module: ModuleType = onnxruntime
    return module


def providers(ort: ModuleType, requested: str | None = None) -> list[Any]:
    """CUDA when asked for or available (``VIGIL_DEVICE`` as for torch), CPU always as fallback."""
    choice = (requested or os.environ.get("VIGIL_DEVICE") or "auto").lower()
    has_cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    if choice == "cpu" or (choice == "auto" and not has_cuda):
        return ["CPUExecutionProvider"]
    if not choice.startswith("cuda") and choice != "auto":
        raise ClassifierError(f"unknown device '{choice}' (use auto, cpu or cuda[:N])")
    if not has_cuda:
        raise ClassifierError(f"device '{choice}' was asked for, but ONNX Runtime has no CUDA")
    index = choice.partition(":")[2]
    cuda_options = {"device_id": int(index)} if index.isdigit() else {}
    return [("CUDAExecutionProvider", cuda_options), "CPUExecutionProvider"]


def graph_session(path: Path, ort: ModuleType, requested: str | None = None) -> Any:
    """An inference session, refused with a clear error for a graph Vigil cannot feed."""
    try:
        session = ort.InferenceSession(str(path), providers=providers(ort, requested))
    except Exception as exc:  # any failure in a third-party loader means the same to us
        raise ClassifierError(f"{path}: not a usable ONNX graph: {exc}") from exc
    unknown = [i.name for i in session.get_inputs() if i.name not in FEEDS]
    if unknown:
        raise ClassifierError(
            f"{path}: the graph needs inputs {', '.join(unknown)}; "
            f"Vigil feeds only {', '.join(FEEDS)}"
        )
    return session


def output_width(session: Any) -> int | None:
    """The number of logits per row, when the export fixes it."""
    width = _logits(session).shape[-1]
    return width if isinstance(width, int) else None


def _logits(session: Any) -> Any:
    outputs = session.get_outputs()
    return next((o for o in outputs if o.name == "logits"), outputs[0])


class OnnxModel(LocalHFModel):
    """An ONNX sequence classifier; satisfies the Classifier protocol."""

    kind = KIND

    def __init__(
        self, manifest: Manifest, head: Head, tokenizer: Any, session: Any, *, max_tokens: int
    ) -> None:
        inputs = {i.name: i.type for i in session.get_inputs()}
        wrong = sorted(name for name, kind in inputs.items() if kind not in _INT_TYPES)
        if wrong:
            raise ClassifierError(f"{manifest.name}: inputs {', '.join(wrong)} are not integers")
        feeds = [k for k in FEEDS if k in inputs]
        super().__init__(manifest, head, tokenizer, feeds, max_tokens=max_tokens)
        self._session = session
        self._types = {name: _INT_TYPES[kind] for name, kind in inputs.items()}
        self._output = _logits(session).name
        self.providers: list[str] = list(session.get_providers())

    def _forward(self, batch: dict[str, NDArray[np.int64]]) -> NDArray[np.float32]:
        feed = {k: v.astype(self._types[k], copy=False) for k, v in batch.items()}
        (logits,) = self._session.run([self._output], feed)
        return np.asarray(logits, dtype=np.float32)

    @classmethod
    def load(
        cls, manifest: Manifest, *, device: str | None = None, max_tokens: int | None = None
    ) -> OnnxModel:
        """Build from a verified directory; ``device`` as for the transformers kind."""
        head = Head.from_manifest(manifest)
        refuse_unlisted(manifest)
        ort = require_onnxruntime(f"the onnx model {manifest.name}")
        session = graph_session(manifest.path(GRAPH), ort, device)
        width = output_width(session)
        if width is not None and width != len(head.model_labels):
            raise ClassifierError(
                f"{manifest.name}: the graph has {width} outputs, "
                f"the manifest maps {len(head.model_labels)}"
            )
        on_cuda = session.get_providers()[0] == "CUDAExecutionProvider"
        budget = max_tokens or (DEFAULT_MAX_TOKENS if on_cuda else CPU_MAX_TOKENS)
        return cls(manifest, head, load_tokenizer(manifest), session, max_tokens=budget)
