"""A model directory's manifest: who the model is, and the SHA-256 of every file it loads.

Model files decide what gets removed, so a swapped or corrupted weight file
must never load silently. The manifest is plain JSON and the weights are numpy
arrays read without pickle, so loading a model never runs code from its files.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vigil.classifiers.base import ClassifierError

MANIFEST = "manifest.json"
FORMAT = "vigil-classifier/1"
NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
LABEL = re.compile(r"^[a-z][a-z0-9_]*$")
_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Manifest:
    """What a model directory says about itself; ``sha256`` is the manifest file's own digest."""

    directory: Path
    name: str
    version: str
    kind: str
    labels: tuple[str, ...]
    files: dict[str, str]
    sha256: str
    params: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)

    def path(self, filename: str) -> Path:
        if filename not in self.files:
            raise ClassifierError(f"{self.name}: {filename} is not listed in its manifest")
        return self.directory / filename

    def verify(self) -> None:
        """Refuse the model if any listed file is missing or differs from its recorded hash."""
        for filename, expected in sorted(self.files.items()):
            target = self.directory / filename
            if not target.is_file():
                raise ClassifierError(f"{self.name}: {target} is missing")
            actual = file_sha256(target)
            if actual != expected:
                raise ClassifierError(
                    f"{self.name}: {target} has SHA-256 {actual}, but the manifest records "
                    f"{expected}; refusing to load a modified model"
                )


def _text(data: dict[str, Any], key: str, where: Path) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ClassifierError(f"{where}: manifest field '{key}' must be non-empty text")
    return value


def read_manifest(directory: Path) -> Manifest:
    """The manifest of the model in ``directory``; nothing else is read."""
    where = directory / MANIFEST
    try:
        raw = where.read_bytes()
    except OSError as exc:
        raise ClassifierError(f"no classifier model at {directory}: {exc.strerror}") from exc
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ClassifierError(f"{where}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ClassifierError(f"{where}: not a Vigil classifier manifest (format {FORMAT})")
    name = _text(data, "name", where)
    if not NAME.match(name):
        raise ClassifierError(f"{where}: model name '{name}' must match {NAME.pattern}")
    labels = data.get("labels")
    if (
        not isinstance(labels, list)
        or not labels
        or not all(isinstance(x, str) and LABEL.match(x) for x in labels)
        or len(set(labels)) != len(labels)
    ):
        raise ClassifierError(f"{where}: labels must be a non-empty list of distinct label ids")
    files = data.get("files")
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and _FILE.match(k) and isinstance(v, str) for k, v in files.items()
    ):
        raise ClassifierError(f"{where}: files must map plain file names to SHA-256 digests")
    params, training = data.get("params", {}), data.get("training", {})
    if not isinstance(params, dict) or not isinstance(training, dict):
        raise ClassifierError(f"{where}: params and training must be mappings")
    return Manifest(
        directory=directory,
        name=name,
        version=_text(data, "version", where),
        kind=_text(data, "kind", where),
        labels=tuple(labels),
        files=dict(files),
        sha256=hashlib.sha256(raw).hexdigest(),
        params=params,
        training=training,
    )


def write_manifest(
    directory: Path,
    *,
    name: str,
    version: str,
    kind: str,
    labels: tuple[str, ...],
    files: list[str],
    params: dict[str, Any],
    training: dict[str, Any],
) -> Manifest:
    """Record the model's identity and hash its files (already written into ``directory``)."""
    body = {
        "format": FORMAT,
        "name": name,
        "version": version,
        "kind": kind,
        "labels": list(labels),
        "files": {f: file_sha256(directory / f) for f in sorted(files)},
        "params": params,
        "training": training,
    }
    text = json.dumps(body, indent=2, sort_keys=True) + "\n"
    (directory / MANIFEST).write_text(text, encoding="utf-8")
    return read_manifest(directory)
