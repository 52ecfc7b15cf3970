"""How good a model is on labelled data, in the terms a safety team sets thresholds in.

Besides precision, recall, F1, ROC-AUC and PR-AUC at one threshold, it reports
recall at a review budget (what share of the harmful items lands in the top 1%
or 5% of scores, which is what a review queue of that size would catch) and the
lowest threshold that reaches a target precision, printed as a policy snippet.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vigil.classifiers.base import Classifier, ClassifierError, Scores
from vigil.classifiers.data import LabelledSet

BUDGETS = (0.01, 0.05)
CHUNK = 4096


def score_all(model: Classifier, texts: Sequence[str]) -> Scores:
    """Scores for many texts, in chunks so memory stays flat."""
    parts = [model.predict(texts[i : i + CHUNK]) for i in range(0, len(texts), CHUNK)]
    if not parts:
        return np.zeros((0, len(model.labels)), dtype=np.float32)
    return np.vstack(parts)


def _opt(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)


def label_metrics(
    y: NDArray[np.int8], scores: NDArray[np.float32], threshold: float, target: float
) -> dict[str, Any]:
    """Every figure for one label; AUCs are ``None`` when the data has a single class."""
    from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

    positives = int(y.sum())
    predicted = scores >= threshold
    tp = int((predicted & (y == 1)).sum())
    precision = tp / int(predicted.sum()) if predicted.any() else float("nan")
    recall = tp / positives if positives else float("nan")
    f1 = (
        2 * precision * recall / (precision + recall)
        if positives and predicted.any() and precision + recall > 0
        else float("nan")
    )
    out: dict[str, Any] = {
        "rows": len(y),
        "positives": positives,
        "threshold": threshold,
        "precision": _opt(precision),
        "recall": _opt(recall),
        "f1": _opt(f1) if not math.isnan(f1) else (0.0 if positives else None),
        "roc_auc": None,
        "pr_auc": None,
        "target_precision": target,
        "threshold_for_target": None,
        "recall_at_target": None,
    }
    order = np.argsort(-scores, kind="stable")
    for budget in BUDGETS:
        k = max(1, math.ceil(budget * len(y))) if len(y) else 0
        hit = int(y[order[:k]].sum())
        out[f"recall_at_top_{round(budget * 100)}pct"] = (
            _opt(hit / positives) if positives else None
        )
    if 0 < positives < len(y):
        out["roc_auc"] = _opt(float(roc_auc_score(y, scores)))
        out["pr_auc"] = _opt(float(average_precision_score(y, scores)))
        prec, rec, cuts = precision_recall_curve(y, scores)
        reach = np.flatnonzero(prec[:-1] >= target)
        if len(reach):
            # The lowest such threshold keeps the most recall.
            best = reach[np.argmin(cuts[reach])]
            out["threshold_for_target"] = math.floor(float(cuts[best]) * 10_000) / 10_000
            out["recall_at_target"] = _opt(float(rec[best]))
    return out


def evaluate(
    model: Classifier,
    data: LabelledSet,
    *,
    threshold: float = 0.5,
    target_precision: float = 0.9,
) -> tuple[dict[str, Any], dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]]:
    """The report (JSON-ready) and each label's precision-recall curve, for ``data``'s labels."""
    from sklearn.metrics import precision_recall_curve

    missing = [label for label in data.labels if label not in model.labels]
    if missing:
        raise ClassifierError(
            f"model {model.name} has no label {', '.join(missing)} (labels: {', '.join(model.labels)})"
        )
    scores = score_all(model, data.texts)
    report: dict[str, Any] = {
        "model": model.name,
        "version": model.version,
        "kind": model.kind,
        "rows": len(data.texts),
        "skipped_rows": len(data.problems),
        "labels": {},
    }
    curves = {}
    for j, label in enumerate(data.labels):
        known = data.targets[:, j] >= 0
        y = data.targets[known, j]
        s = scores[known, model.labels.index(label)]
        report["labels"][label] = label_metrics(y, s, threshold, target_precision)
        if 0 < y.sum() < len(y):
            prec, rec, _ = precision_recall_curve(y, s)
            curves[label] = (prec.astype(np.float64), rec.astype(np.float64))
    return report, curves


def plot_pr(
    curves: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]], title: str, path: Path
) -> None:
    """A precision-recall plot of every label, written as PNG (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=100)
    for label, (prec, rec) in sorted(curves.items()):
        ax.plot(rec, prec, label=label, linewidth=1.5)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title(title)
    if curves:
        ax.legend(loc="lower left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    plt.close(fig)


def policy_snippet(model: str, label: str, threshold: float, category: str = "CATEGORY") -> str:
    """The rule condition that acts on ``label`` from ``threshold`` up, ready to paste."""
    return (
        f"  - id: {model}-{label}\n"
        f"    category: {category}\n"
        "    when:\n"
        "      signals: [classifier]\n"
        f"      classifier: {model}\n"
        f"      label: {label}\n"
        f"      min_score: {threshold:g}\n"
        "    severity: medium\n"
        "    action: remove_content\n"
        "    review: required\n"
        "    deadline: 24h\n"
    )


def plot_cascade(report: dict[str, Any], path: Path) -> None:
    """Recall against the share of texts the costly model scores, one point per band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=100)
    labels = sorted({x for entry in report["bands"] for x in entry["labels"]})
    for index, label in enumerate(labels):
        color = f"C{index}"
        points = [
            (entry["routed_share"], entry["labels"][label]["recall_cascade"], entry)
            for entry in report["bands"]
            if label in entry["labels"]
        ]
        if not points:
            continue
        ax.scatter([p[0] for p in points], [p[1] for p in points], color=color, label=label)
        for share, recall, entry in points:
            ax.annotate(f"{entry['low']:g}:{entry['high']:g}", (share, recall), fontsize=7)
        alone = points[0][2]["labels"][label]["recall_then"]
        ax.axhline(alone, color=color, linestyle="--", linewidth=1)
    ax.set_xlabel("share of texts sent to the costly model")
    ax.set_ylabel(f"recall at min_score {report['threshold']:g}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title(f"{report['first']} > {report['then']} (dashed: costly model alone)", fontsize=9)
    if labels:
        ax.legend(loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    plt.close(fig)
