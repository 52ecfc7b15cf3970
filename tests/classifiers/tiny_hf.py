"""A tiny, randomly initialised BERT sequence classifier and its ONNX exports, built offline.

Seeded, so every build gives the same weights. 32 hidden units and two layers
keep building, exporting and running it to a second or two.
"""

from __future__ import annotations

import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

MODEL_LABELS = ("toxic", "insult", "identity_hate")
WORDS = [
    "the",
    "a",
    "and",
    "to",
    "of",
    "in",
    "is",
    "it",
    "you",
    "that",
    "was",
    "for",
    "on",
    "are",
    "with",
    "as",
    "they",
    "be",
    "at",
    "this",
    "from",
    "or",
    "have",
    "not",
    "but",
    "what",
    "we",
    "can",
    "out",
    "all",
    "there",
    "when",
    "up",
    "your",
    "how",
    "said",
    "will",
    "about",
    "them",
    "would",
    "like",
    "so",
    "people",
    "know",
    "time",
    "day",
    "love",
    "hate",
    "game",
    "kill",
    "great",
    "stupid",
    "really",
    "##s",
    "##ed",
    "##ing",
]
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
MAX_LENGTH = 48
TEXTS = [
    "you are stupid",
    "I will kill you tonight and nobody will know",
    "love the game",
    "a",
    "what a great day at the game with all the people, really loved it",
    "they hate what you said about them",
    "zebra quokka",  # unknown words
    "",
    "the " * 80,  # longer than MAX_LENGTH: truncated
    "how was your day? it was great, thanks for asking",
    "hated, killing, games",
]


@dataclass(frozen=True)
class TinyHF:
    """The tiny model as saved by Hugging Face, and as exported to ONNX."""

    hf_dir: Path
    onnx_dir: Path
    onnx_two_inputs_dir: Path
    model: Any
    tokenizer: Any

    def reference(self, texts: list[str], outputs: list[int], activation: str) -> NDArray[Any]:
        """Scores from a plain forward pass, one text at a time (no padding, no bucketing)."""
        rows = []
        with torch.inference_mode():
            for text in texts:
                enc = self.tokenizer(
                    [text], truncation=True, max_length=MAX_LENGTH, return_tensors="pt"
                )
                logits = self.model(**enc).logits.double()
                probs = torch.sigmoid(logits) if activation == "sigmoid" else logits.softmax(-1)
                rows.append(probs[0, outputs].numpy())
        return np.stack(rows)


class _TwoInputs(torch.nn.Module):
    """The classifier with no token_type_ids input, like a RoBERTa export."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: Any, attention_mask: Any) -> Any:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


def _export(model: Any, tokenizer: Any, target: Path, names: list[str]) -> None:
    # Traced with padding in the batch so the attention mask is part of the graph.
    enc = tokenizer(["you are stupid", "a"], padding=True, return_tensors="pt")
    # eval() on the wrapper too: the exporter restores its mode, and with it the model's.
    module = model if len(names) == 3 else _TwoInputs(model).eval()
    axes = {n: {0: "batch", 1: "sequence"} for n in names} | {"logits": {0: "batch"}}
    # The dynamo exporter needs onnxscript, which the ml extra does not install; the
    # TorchScript one warns about its deprecation and its tracing, none of which matters here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            tuple(enc[n] for n in names),
            str(target / "model.onnx"),
            input_names=names,
            output_names=["logits"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def build(root: Path) -> TinyHF:
    torch.manual_seed(1234)
    vocab = {token: i for i, token in enumerate(SPECIAL + WORDS)}
    tokenizer = BertTokenizer(vocab=vocab, model_max_length=MAX_LENGTH)
    head: dict[str, Any] = {
        "num_labels": len(MODEL_LABELS),
        "id2label": dict(enumerate(MODEL_LABELS)),
        "label2id": {name: i for i, name in enumerate(MODEL_LABELS)},
        "problem_type": "multi_label_classification",
    }
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        **head,
    )
    model: Any = BertForSequenceClassification(config)
    model.eval()
    hf_dir = root / "tiny-hf"
    model.save_pretrained(hf_dir)
    tokenizer.save_pretrained(hf_dir)
    dirs = []
    for folder, names in (
        ("tiny-onnx", ["input_ids", "attention_mask", "token_type_ids"]),
        ("tiny-onnx-2", ["input_ids", "attention_mask"]),
    ):
        target = root / folder
        shutil.copytree(hf_dir, target, ignore=shutil.ignore_patterns("*.safetensors"))
        _export(model, tokenizer, target, names)
        dirs.append(target)
    return TinyHF(hf_dir, dirs[0], dirs[1], model, tokenizer)
