"""Rebuild the shipped models from the public datasets in ../shared/data/text.

    .venv/bin/python scripts/build_models.py [vigil-lexical|vigil-hybrid]   # or: make models

The hybrid model encodes every text with MiniLM: about 15 minutes on 2 CPU cores.

Steps: read each licensed-for-shipping set, map its labels onto Vigil's four
(threat, incitement, hate, offensive; a set that never judged a label leaves
it empty), deduplicate by normalised text across all sets, split off held-out
test rows (the sets' own test splits where they have one, else a fixed-seed
20% by text), train with `vigil model train`, and evaluate every held-out split
(and the sets we do not train on) with `vigil model eval`. Nothing under
../shared is read by the product; the datasets never enter the repository.
ETHOS (GPL-3.0) and Stormfront (CC BY-SA 3.0 ES) are used for evaluation only:
see docs/model-card.md for why.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TEXT = ROOT.parent / "shared" / "data" / "text"
WORK = ROOT / "out" / "models"
SHIPPED_ROOT = ROOT / "src" / "vigil" / "classifiers" / "shipped"
SHIPPED = SHIPPED_ROOT / "vigil-lexical"
NAME, VERSION = "vigil-lexical", "2026.12.1"
# n-grams and MiniLM embeddings under one head per label (kind hybrid, needs the ml extra).
HYBRID, HYBRID_VERSION = "vigil-hybrid", "2026.12.1"
LABELS = ("threat", "incitement", "hate", "offensive")
SEED = "vigil-models-2026"
TEST_SHARE = 0.2
_MENTION = re.compile(r"@\w+|https?://\S+|&amp;|\brt\b")
_NON_WORD = re.compile(r"[^\w]+")

Row = dict[str, Any]


def normalise(text: str) -> str:
    """The dedup key: lowercase, no mentions, links or retweet marks, words only."""
    return _NON_WORD.sub(" ", _MENTION.sub(" ", text.lower())).strip()


def _row(source: str, text: str, split: str | None, **labels: int) -> Row:
    return {"source": source, "text": text.strip(), "split": split, "labels": labels}


def davidson() -> list[Row]:
    rows = []
    with (TEXT / "davidson" / "labeled_data.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            cls = int(r["class"])  # 0 hate speech, 1 offensive, 2 neither
            rows.append(
                _row("davidson", r["tweet"], None, hate=int(cls == 0), offensive=int(cls < 2))
            )
    return rows


def tweeteval(task: str, label: str) -> list[Row]:
    rows = []
    for part in ("train", "val", "test"):
        folder = TEXT / f"tweeteval_{task}"
        texts = (folder / f"{part}_text.txt").read_text(encoding="utf-8").splitlines()
        flags = (folder / f"{part}_labels.txt").read_text(encoding="utf-8").split()
        split = "test" if part == "test" else "train"
        for text, flag in zip(texts, flags, strict=True):
            rows.append(_row(f"tweeteval_{task}", text, split, **{label: int(flag)}))
    return rows


def implicit_hate() -> list[Row]:
    folder = TEXT / "implicit_hate"
    fine: dict[str, set[str]] = defaultdict(set)
    with (folder / "implicit_hate_v1_stg2_posts.tsv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            fine[r["post"]].update(c for c in (r["implicit_class"], r["extra_implicit_class"]) if c)
    rows = []
    with (folder / "implicit_hate_v1_stg1_posts.tsv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            labels = {"hate": int(r["class"] != "not_hate")}
            if r["class"] == "not_hate":
                labels.update(threat=0, incitement=0)
            elif r["post"] in fine:
                classes = fine[r["post"]]
                labels.update(
                    threat=int("threatening" in classes), incitement=int("incitement" in classes)
                )
            rows.append(_row("implicit_hate", r["post"], None, **labels))
    return rows


def ethos() -> list[Row]:
    """Evaluation only (GPL-3.0): hate from the binary set, threat from the violence label."""
    folder = TEXT / "ethos"
    violence = {}
    with (folder / "Ethos_Dataset_Multi_Label.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh, delimiter=";"):
            violence[r["comment"].strip()] = float(r["violence"]) >= 0.5
    rows = []
    with (folder / "Ethos_Dataset_Binary.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh, delimiter=";"):
            text, hate = r["comment"].strip(), float(r["isHate"]) >= 0.5
            rows.append(
                _row("ethos", text, "eval", hate=int(hate), threat=int(violence.get(text, False)))
            )
    return rows


def stormfront() -> list[Row]:
    """Evaluation only (CC BY-SA): sentences labelled hate or not."""
    rows = []
    with (TEXT / "stormfront" / "stormfront.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["label"] in ("hate", "noHate"):
                rows.append(_row("stormfront", r["text"], "eval", hate=int(r["label"] == "hate")))
    return rows


def _bucket(key: str) -> float:
    digest = hashlib.sha256(f"{SEED}\n{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split(rows: list[Row]) -> tuple[list[Row], dict[str, list[Row]]]:
    """Training rows (merged across sets by normalised text) and held-out rows per set."""
    by_key: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        key = normalise(r["text"])
        if key:
            by_key[key].append(r)
    train: list[Row] = []
    tests: dict[str, list[Row]] = defaultdict(list)
    for key, group in sorted(by_key.items()):
        held = any(r["split"] == "test" for r in group) or (
            all(r["split"] is None for r in group) and _bucket(key) < TEST_SHARE
        )
        trainable = [r for r in group if r["split"] != "eval"]
        if held or not trainable:
            # Held out everywhere: once per set that has it, never in training.
            for source in sorted({r["source"] for r in group}):
                merged = _merge([r for r in group if r["source"] == source])
                if len(merged) > 1:  # copies that disagree on every label say nothing
                    tests[source].append(merged)
            continue
        train.append(_merge(trainable))
    return train, tests


def _merge(group: list[Row]) -> Row:
    """One row per text; a label the copies disagree on is left unknown."""
    labels: dict[str, int | None] = {}
    for r in group:
        for label, value in r["labels"].items():
            labels[label] = value if labels.get(label, value) == value else None
    return {"text": group[0]["text"], **{k: v for k, v in labels.items() if v is not None}}


def write_jsonl(path: Path, rows: list[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def vigil(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "vigil", *args], check=True, cwd=ROOT)


def main() -> None:
    rows = davidson() + tweeteval("hate", "hate") + tweeteval("offensive", "offensive")
    rows += implicit_hate() + ethos() + stormfront()
    train, tests = split(rows)
    data = WORK / "data"
    write_jsonl(data / "train.jsonl", train)
    for source, held in sorted(tests.items()):
        write_jsonl(data / f"test_{source}.jsonl", held)
    print(
        f"train: {len(train):,} texts; held out: "
        + ", ".join(f"{s} {len(t):,}" for s, t in sorted(tests.items()))
    )
    models = {
        NAME: (SHIPPED, VERSION, "lexical"),
        HYBRID: (SHIPPED_ROOT / HYBRID, HYBRID_VERSION, "hybrid"),
    }
    only = sys.argv[1:] or list(models)
    for name in only:
        target, version, kind = models[name]
        vigil(
            "model",
            "train",
            str(data / "train.jsonl"),
            "--labels",
            ",".join(LABELS),
            "--out",
            str(target),
            "--name",
            name,
            "--version",
            version,
            "--kind",
            kind,
        )
        figures = {}
        for source in sorted(tests):
            out = WORK / "eval" / name / source
            vigil(
                "model", "eval", str(target), str(data / f"test_{source}.jsonl"), "--out", str(out)
            )
            figures[source] = json.loads((out / "eval.json").read_text(encoding="utf-8"))
        written = WORK / f"figures-{name}.json"
        written.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"figures: {written}")


if __name__ == "__main__":
    main()
