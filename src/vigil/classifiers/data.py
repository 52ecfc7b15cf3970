"""Labelled text for training and evaluation: JSONL or CSV, one 0/1 column per label.

A label may be left empty (or null) where a row's source never judged it, so
sets labelled for different harms can be merged; such a row simply does not
train or score that label. A bad row is reported with its line number and
skipped: one stray line must not cost a training run.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vigil.classifiers.base import ClassifierError

UNKNOWN = -1
_TRUE = {"1", "1.0", "true", "yes"}
_FALSE = {"0", "0.0", "false", "no"}


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str

    def render(self, path: Path) -> str:
        return f"{path}:{self.line}: {self.message}"


@dataclass
class LabelledSet:
    """Texts, a target matrix (1, 0 or -1 for unknown) and the rows that were skipped."""

    labels: tuple[str, ...]
    texts: list[str] = field(default_factory=list)
    targets: NDArray[np.int8] = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int8))
    problems: list[RowProblem] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        """Per label: how many rows know it, and how many of those are positive."""
        out = {}
        for j, label in enumerate(self.labels):
            column = self.targets[:, j]
            out[label] = {
                "known": int((column >= 0).sum()),
                "positive": int((column == 1).sum()),
            }
        return out


def _flag(value: Any) -> int | None:
    """1, 0 or UNKNOWN; ``None`` when the value is not a 0/1 label."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return UNKNOWN
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return 1
        if word in _FALSE:
            return 0
    return None


def _rows(path: Path, text_column: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line, row) pairs; a string row is the reason the line could not be read."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or text_column not in reader.fieldnames:
                raise ClassifierError(f"{path}: the header has no '{text_column}' column")
            line = reader.line_num
            for row in reader:
                yield line + 1, dict(row)
                line = reader.line_num
        return
    with path.open(encoding="utf-8") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                yield number, f"not valid JSON ({exc.msg})"
                continue
            yield number, data if isinstance(data, dict) else "not a JSON object"


def read_labelled(path: Path, labels: Sequence[str], text_column: str = "text") -> LabelledSet:
    """Read ``path`` (``.csv``, otherwise JSON lines); bad rows become problems, not errors."""
    if not labels:
        raise ClassifierError("name at least one label")
    out = LabelledSet(tuple(labels))
    rows: list[list[int]] = []
    try:
        for line, row in _rows(path, text_column):
            if isinstance(row, str):
                out.problems.append(RowProblem(line, row))
                continue
            text = row.get(text_column)
            if not isinstance(text, str) or not text.strip():
                out.problems.append(RowProblem(line, f"'{text_column}' is missing or empty"))
                continue
            flags = [_flag(row.get(label)) for label in labels]
            bad = [f"'{lab}'" for lab, f in zip(labels, flags, strict=True) if f is None]
            if bad:
                out.problems.append(RowProblem(line, f"{', '.join(bad)} must be 0, 1 or empty"))
                continue
            if all(f == UNKNOWN for f in flags):
                out.problems.append(RowProblem(line, "no label is given"))
                continue
            out.texts.append(text)
            rows.append([f for f in flags if f is not None])
    except OSError as exc:
        raise ClassifierError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ClassifierError(f"{path} is not UTF-8 text") from exc
    out.targets = np.array(rows, dtype=np.int8).reshape(len(rows), len(labels))
    return out
