"""Wrapping a local Hugging Face or ONNX model directory as a Vigil model.

The files are copied into a new directory rather than given a manifest where
they lie: the source may be a hub cache of symlinks, or hold files that must
never load (pickled ``.bin`` weights, other exports), and the loaders refuse any
file the manifest does not hash. A copy holds exactly what was checked. The
copy is then loaded and run once, so a broken export fails here, not at ingest.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from vigil.classifiers import registry
from vigil.classifiers.base import ClassifierError
from vigil.classifiers.hf_local import (
    CONFIG,
    PICKLE_SUFFIXES,
    Head,
    config_labels,
    default_activation,
    read_config,
    require_transformers,
    resolve_outputs,
)
from vigil.classifiers.manifest import _FILE, LABEL, MANIFEST, NAME, Manifest, write_manifest
from vigil.classifiers.onnx_model import GRAPH, graph_session, output_width, require_onnxruntime
from vigil.classifiers.torch_runtime import DEFAULT_MAX_LENGTH

IMPORT_KINDS = ("transformers", "onnx")
_OTHER_WEIGHTS = (".h5", ".msgpack", ".ot", ".tflite", ".gguf")
_PROBE = "Vigil import check: one short text."


@dataclass(frozen=True)
class ImportResult:
    manifest: Manifest
    head: Head
    skipped: dict[str, str]


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """``VIGIL_LABEL=MODEL_LABEL`` pairs, in the order given."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        label, sep, target = (x.strip() for x in pair.partition("="))
        if not sep or not label or not target:
            raise ClassifierError(f"'{pair}': give a label as VIGIL_LABEL=MODEL_LABEL")
        if label in mapping:
            raise ClassifierError(f"label '{label}' is mapped twice")
        mapping[label] = target
    return mapping


def _skip_reason(path: Path, kind: str) -> str | None:
    """Why a file of the source is not copied, or ``None`` to copy it."""
    name = path.name.lower()
    if path.is_dir():
        return "folder (only the top level of a model directory is read)"
    if not _FILE.match(path.name) or path.name == MANIFEST:
        return "not a model file name"
    if name.endswith(PICKLE_SUFFIXES):
        return "pickle-based, never loaded (it could run code)"
    if name.endswith(_OTHER_WEIGHTS):
        return "weights for another framework"
    if kind == "transformers" and ".onnx" in name:
        return "ONNX export (import it with --kind onnx)"
    if kind == "onnx" and (
        name.endswith(".safetensors") or name.endswith(".safetensors.index.json")
    ):
        return "PyTorch weights (import them with --kind transformers)"
    if kind == "onnx" and name.endswith(".onnx") and path.name != GRAPH:
        return f"another ONNX graph (only {GRAPH} is run)"
    return None


def _plan(source: Path, kind: str) -> tuple[list[str], dict[str, str]]:
    keep: list[str] = []
    skipped: dict[str, str] = {}
    for path in sorted(source.iterdir()):
        reason = _skip_reason(path, kind)
        if reason is None:
            keep.append(path.name)
        else:
            skipped[path.name] = reason
    if kind == "transformers" and not any(f.endswith(".safetensors") for f in keep):
        pickled = [f for f in skipped if f.lower().endswith(PICKLE_SUFFIXES)]
        hint = (
            f" ({', '.join(pickled)} is pickle-based and refused: save the model with "
            "save_pretrained(), which writes model.safetensors)"
            if pickled
            else ""
        )
        raise ClassifierError(f"{source}: no safetensors weights{hint}")
    needed = CONFIG if kind == "transformers" else GRAPH
    if needed not in keep:
        raise ClassifierError(f"{source}: no {needed}")
    return keep, skipped


def _model_labels(
    source: Path, kind: str, keep: list[str]
) -> tuple[dict[str, object], tuple[str, ...]]:
    """The model's config (empty for an ONNX export without one) and its output names."""
    if CONFIG in keep:
        config = read_config(source)
        return config, config_labels(config)
    session = graph_session(source / GRAPH, require_onnxruntime("importing an ONNX model"), "cpu")
    width = output_width(session)
    if width is None:
        raise ClassifierError(
            f"{source}: no {CONFIG} and the graph's output width is not fixed; "
            "add the config.json the model was exported from"
        )
    return {}, tuple(str(i) for i in range(width))


def _max_length(source: Path, config: Mapping[str, object], requested: int | None) -> int:
    """The tokens kept per text: as asked, else 256 or the model's limit if lower.

    A length past the model's position embeddings would fail only on long texts,
    long after import, so it is refused here.
    """
    positions = config.get("max_position_embeddings")
    if requested is not None:
        if isinstance(positions, int) and requested > positions:
            raise ClassifierError(
                f"max_length {requested} exceeds the model's {positions} positions"
            )
        return requested
    transformers = require_transformers("importing a model")
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            str(source), local_files_only=True, trust_remote_code=False
        )
    except Exception as exc:  # any failure in a third-party loader means the same to us
        raise ClassifierError(f"{source}: cannot load its tokenizer: {exc}") from exc
    limits = [DEFAULT_MAX_LENGTH, tokenizer.model_max_length, positions]
    return min(x for x in limits if isinstance(x, int) and x > 0)


def import_model(
    source: Path,
    out: Path,
    *,
    name: str,
    version: str,
    kind: str,
    mapping: Mapping[str, str],
    activation: str | None = None,
    max_length: int | None = None,
) -> ImportResult:
    """Copy ``source`` into ``out``, hash it with the label mapping, and check it loads and runs."""
    if kind not in IMPORT_KINDS:
        raise ClassifierError(f"kind '{kind}' cannot be imported (use {' or '.join(IMPORT_KINDS)})")
    if not NAME.match(name):
        raise ClassifierError(f"model name '{name}' must match {NAME.pattern}")
    if not version.strip():
        raise ClassifierError("the version must be non-empty")
    if not mapping:
        raise ClassifierError("map at least one label (--label VIGIL_LABEL=MODEL_LABEL)")
    bad = [label for label in mapping if not LABEL.match(label)]
    if bad:
        raise ClassifierError(f"labels {', '.join(bad)} must match {LABEL.pattern}")
    if not source.is_dir():
        raise ClassifierError(f"{source}: not a directory")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ClassifierError(f"{out} already exists and is not empty; choose a new --out")
    keep, skipped = _plan(source, kind)
    config, model_labels = _model_labels(source, kind, keep)
    head = Head(
        outputs=tuple(resolve_outputs(mapping, model_labels).values()),
        model_labels=model_labels,
        activation=activation or default_activation(config, len(model_labels)),
        max_length=_max_length(source, config, max_length),
    )
    labels = tuple(mapping)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        for filename in keep:
            shutil.copyfile(source / filename, out / filename)  # follows hub-cache symlinks
        manifest = write_manifest(
            out,
            name=name,
            version=version,
            kind=kind,
            labels=labels,
            files=keep,
            params=head.to_params(labels),
            training={"imported_from": source.name, "skipped_files": skipped},
        )
        registry.load(out).predict([_PROBE])
    except BaseException:
        # Leave nothing half-imported: a directory with a manifest looks like a model.
        for filename in [*keep, MANIFEST]:
            (out / filename).unlink(missing_ok=True)
        if created:
            out.rmdir()
        raise
    return ImportResult(manifest, head, skipped)
