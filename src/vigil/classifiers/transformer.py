"""The ``transformers`` kind: a Hugging Face sequence classifier run by PyTorch.

The directory holds what ``save_pretrained`` writes (config.json, safetensors
weights, tokenizer files), copied and hashed by ``vigil model import``. It is
loaded from those files only: no hub, no code from the directory
(``trust_remote_code=False``), and no pickle-based ``.bin`` weights. On CUDA the
model runs in bfloat16 with large length-bucketed batches; on CPU in float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from vigil.classifiers.base import ClassifierError
from vigil.classifiers.hf_local import (
    CONFIG,
    CPU_MAX_TOKENS,
    FEEDS,
    Head,
    LocalHFModel,
    load_tokenizer,
    refuse_unlisted,
    require_transformers,
)
from vigil.classifiers.manifest import Manifest
from vigil.classifiers.torch_runtime import (
    DEFAULT_MAX_TOKENS,
    Precision,
    compute_dtype,
    pick_device,
    require_torch,
)

KIND = "transformers"
WEIGHTS_SUFFIX = ".safetensors"


class TransformerModel(LocalHFModel):
    """A local sequence classifier on CPU or CUDA; satisfies the Classifier protocol."""

    kind = KIND

    def __init__(
        self,
        manifest: Manifest,
        head: Head,
        tokenizer: Any,
        model: Any,
        device: str,
        *,
        max_tokens: int,
    ) -> None:
        feeds = [k for k in FEEDS if k in tokenizer.model_input_names]
        super().__init__(manifest, head, tokenizer, feeds, max_tokens=max_tokens)
        self._torch = require_torch("the transformers kind")
        self._model = model
        self.device = device

    @property
    def dtype(self) -> str:
        """The weights' precision, e.g. ``float32`` or ``bfloat16``."""
        return str(self._model.dtype).removeprefix("torch.")

    def _forward(self, batch: dict[str, NDArray[np.int64]]) -> NDArray[np.float32]:
        torch = self._torch
        tensors = {k: torch.from_numpy(v).to(self.device) for k, v in batch.items()}
        with torch.inference_mode():
            logits = self._model(**tensors).logits
        return np.asarray(logits.float().cpu().numpy(), dtype=np.float32)

    @classmethod
    def load(
        cls,
        manifest: Manifest,
        *,
        device: str | None = None,
        precision: Precision = "auto",
        max_tokens: int | None = None,
    ) -> TransformerModel:
        """Build from a verified directory; ``device`` and ``precision`` default to the runtime's."""
        head = Head.from_manifest(manifest)
        refuse_unlisted(manifest)
        if CONFIG not in manifest.files or not any(
            f.endswith(WEIGHTS_SUFFIX) for f in manifest.files
        ):
            raise ClassifierError(f"{manifest.name}: needs {CONFIG} and safetensors weights")
        require_torch(f"the transformers model {manifest.name}")
        transformers = require_transformers(f"the transformers model {manifest.name}")
        chosen = pick_device(device)
        try:
            model = transformers.AutoModelForSequenceClassification.from_pretrained(
                str(manifest.directory),
                local_files_only=True,
                trust_remote_code=False,
                use_safetensors=True,
                dtype=compute_dtype(chosen, precision),
            )
        except Exception as exc:  # any failure in a third-party loader means the same to us
            raise ClassifierError(f"{manifest.name}: cannot load the model: {exc}") from exc
        model = model.to(chosen).eval()
        if model.config.num_labels != len(head.model_labels):
            raise ClassifierError(
                f"{manifest.name}: the model has {model.config.num_labels} outputs, "
                f"the manifest maps {len(head.model_labels)}"
            )
        budget = max_tokens or (DEFAULT_MAX_TOKENS if chosen.startswith("cuda") else CPU_MAX_TOKENS)
        return cls(manifest, head, load_tokenizer(manifest), model, chosen, max_tokens=budget)
