"""Where and how neural models run: device, precision, offline loading and length bucketing.

Shared by every torch-backed kind (sentence-embedding heads, exemplar sets, local
transformer models) so they pick the device the same way and batch the same way.
torch and transformers are the optional ``ml`` extra: they are imported only
when a model that needs them loads, and a clear error says what to install.

Length bucketing: texts are sorted by token count and cut into batches whose
padded size (rows x longest row) stays under a token budget, so short texts do
not pay for the padding of long ones and a GPU gets large batches of them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from types import ModuleType
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from vigil.classifiers.base import ClassifierError

Precision = Literal["auto", "fp32", "bf16"]

# Per batch: rows times padded length. 64k tokens of a MiniLM-sized model fit easily on
# any CUDA card and keep CPU batches near 128 rows of typical posts.
DEFAULT_MAX_TOKENS = 65_536
DEFAULT_MAX_BATCH = 4_096
# Tokens kept per text; longer texts are scored on their start.
DEFAULT_MAX_LENGTH = 256

_OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def stay_offline() -> None:
    """Tell Hugging Face libraries never to reach a hub: models load from local files only."""
    for key, value in _OFFLINE.items():
        os.environ.setdefault(key, value)


def require_torch(feature: str) -> ModuleType:
    """``torch``, or an error that names the extra to install."""
    stay_offline()
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - the test suite installs the extra
        raise ClassifierError(
            f"{feature} needs the optional ml extra: pip install 'vigil[ml]' "
            "(or: make .venv/.installed-ml)"
        ) from exc
    threads = os.environ.get("VIGIL_TORCH_THREADS")
    if threads and threads.isdigit() and int(threads) > 0:
        # With more OpenMP threads than free cores each op waits on a descheduled thread
        # (measured 50-100x slower on a busy 2-core machine): let operators cap it.
        torch.set_num_threads(int(threads))
    return torch


def pick_device(requested: str | None = None) -> str:
    """``cuda`` when asked for or available, else ``cpu``; ``VIGIL_DEVICE`` overrides 'auto'."""
    torch = require_torch("choosing a device")
    choice = (requested or os.environ.get("VIGIL_DEVICE") or "auto").lower()
    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if choice.startswith("cuda") and not torch.cuda.is_available():
        raise ClassifierError(f"device '{choice}' was asked for, but no CUDA device is available")
    if choice != "cpu" and not choice.startswith("cuda"):
        raise ClassifierError(f"unknown device '{choice}' (use auto, cpu or cuda[:N])")
    return choice


def compute_dtype(device: str, precision: Precision = "auto") -> object:
    """bfloat16 on CUDA (half the memory traffic, same range as fp32), float32 on CPU."""
    torch = require_torch("choosing a precision")
    if precision == "fp32":
        return torch.float32
    if precision == "bf16":
        return torch.bfloat16
    if device.startswith("cuda") and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def length_batches(
    lengths: Sequence[int] | NDArray[np.int64],
    *,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    max_batch: int = DEFAULT_MAX_BATCH,
) -> list[NDArray[np.int64]]:
    """Row indices grouped into batches of similar length, longest first.

    Each batch's padded size (rows x its longest row) is at most ``max_tokens``
    (a single row longer than that still gets a batch of its own). Callers put
    the scores back with the indices, so the output order is the input order.
    """
    if max_tokens < 1 or max_batch < 1:
        raise ValueError("max_tokens and max_batch must be positive")
    sizes = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(-sizes, kind="stable")
    batches: list[NDArray[np.int64]] = []
    start = 0
    while start < len(order):
        longest = max(int(sizes[order[start]]), 1)
        rows = max(1, min(max_batch, max_tokens // longest))
        batches.append(order[start : start + rows])
        start += rows
    return batches
