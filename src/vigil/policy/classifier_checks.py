"""Validation of the ``classifiers:`` section and of rules that use classifier signals.

A rule that names a model or label that does not exist would never fire, and
a model that changed under a policy would fire on a different scale: both must
stop the policy from loading. So the validator reads each declared model's
manifest (never its weights) to know its labels, version and digest.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Protocol

from vigil.classifiers import registry
from vigil.classifiers.base import ClassifierError
from vigil.classifiers.manifest import MANIFEST, NAME
from vigil.policy import parser
from vigil.policy.schema import Policy

_FIELDS = ("classifier", "label", "min_score")


class Reporter(Protocol):
    def add(self, path: parser.Path, message: str, *, at_value: bool = False) -> None: ...


def _hint(word: str, options: list[str]) -> str:
    import difflib

    match = difflib.get_close_matches(word, options, n=1, cutoff=0.75)
    return f"; did you mean '{match[0]}'?" if match else ""


def _declared_labels(
    out: Reporter, name: str, spec: dict[str, Any], base: Path | None
) -> tuple[str, ...] | None:
    """The labels of the model declared as ``name``, or ``None`` (with an issue) if unusable."""
    path: parser.Path = ("classifiers", name)
    written = spec.get("path")
    try:
        directory = registry.locate(name, written if isinstance(written, str) else None, base)
    except ClassifierError:
        shipped = registry.shipped_names()
        out.add(
            path,
            f"no shipped classifier named '{name}'{_hint(name, shipped)} "
            f"(shipped: {', '.join(shipped) or 'none'}); give path: for a model of your own",
        )
        return None
    if not (directory / MANIFEST).is_file():
        out.add(
            (*path, "path"), f"no classifier model at '{written}' (no {MANIFEST})", at_value=True
        )
        return None
    try:
        manifest = registry.describe(directory)
    except ClassifierError as exc:
        out.add((*path, "path"), str(exc), at_value=True)
        return None
    kind = spec.get("kind")
    if kind is not None and kind in registry.KINDS and manifest.kind != kind:
        out.add((*path, "kind"), f"the model is of kind '{manifest.kind}', not '{kind}'")
    if manifest.name != name:
        out.add(
            (*path, "path"),
            f"the model at '{written}' is named '{manifest.name}'; declare it under that name",
            at_value=True,
        )
    version = spec.get("version")
    if isinstance(version, str) and version != manifest.version:
        out.add(
            (*path, "version"),
            f"classifier '{name}' is version '{manifest.version}', but the policy expects "
            f"'{version}'; check the new model (vigil model eval) before changing the version",
            at_value=True,
        )
    pinned = spec.get("sha256")
    if isinstance(pinned, str) and pinned != manifest.sha256:
        out.add(
            (*path, "sha256"),
            f"the manifest of classifier '{name}' does not have this SHA-256; "
            "`vigil model list` shows the digest of each shipped model",
            at_value=True,
        )
    return manifest.labels


def check_declarations(
    out: Reporter, classifiers: Any, base: Path | None
) -> dict[str, tuple[str, ...] | None]:
    """Each declared classifier's labels (``None`` where its model could not be read)."""
    declared: dict[str, tuple[str, ...] | None] = {}
    if not isinstance(classifiers, dict):
        return declared
    ensembles: dict[str, dict[str, Any]] = {}
    cascades: dict[str, dict[str, Any]] = {}
    for name, spec in classifiers.items():
        if not re.match(NAME, name):
            out.add(
                ("classifiers", name),
                f"'{name}' is not a valid classifier name; use lowercase letters, digits, "
                "'-' and '_', starting with a letter",
            )
            declared[name] = None
            continue
        if isinstance(spec, dict) and "cascade" in spec:
            cascades[name] = spec
        elif isinstance(spec, dict) and "ensemble" in spec:
            ensembles[name] = spec
        else:
            declared[name] = (
                _declared_labels(out, name, spec, base) if isinstance(spec, dict) else None
            )
    # Ensembles combine models; cascades chain models or ensembles. Nothing else nests,
    # so no declaration can refer to itself.
    models = dict(declared)
    for name, spec in ensembles.items():
        members = (
            spec.get("ensemble", {}).get("models")
            if isinstance(spec.get("ensemble"), dict)
            else None
        )
        names = list(members) if isinstance(members, dict) else []
        declared[name] = _combined_labels(
            out, name, spec, "ensemble", [("models", m) for m in names], models, "models"
        )
    stages = dict(declared)
    for name, spec in cascades.items():
        cascade = spec.get("cascade")
        refs = [
            (stage, cascade.get(stage))
            for stage in ("first", "then")
            if isinstance(cascade, dict) and isinstance(cascade.get(stage), str)
        ]
        declared[name] = _combined_labels(
            out, name, spec, "cascade", refs, stages, "models or ensembles"
        )
    return declared


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def _combined_labels(
    out: Reporter,
    name: str,
    spec: dict[str, Any],
    what: str,
    refs: list[tuple[str, Any]],
    known: dict[str, tuple[str, ...] | None],
    allowed: str,
) -> tuple[str, ...] | None:
    """The labels every part of a cascade or ensemble shares, or ``None`` (with an issue)."""
    path: parser.Path = ("classifiers", name)
    for extra in ("kind", "path", "version", "sha256"):
        if extra in spec:
            out.add(
                (*path, extra),
                f"{_a(what)} has no model of its own: pin {extra} on the classifiers it uses",
            )
    body = spec.get(what)
    if not isinstance(body, dict):
        return None  # the shape check reports it
    parts: list[tuple[str, ...]] = []
    for field, ref in refs:
        where: parser.Path = (
            (*path, what, field) if field != "models" else (*path, what, "models", ref)
        )
        if ref == name or ref not in known:
            listed = ", ".join(known) or "none declared"
            out.add(
                where,
                f"'{ref}' is not a declared classifier that {_a(what)} can use ({allowed} "
                f"declared under classifiers: {listed}){_hint(str(ref), list(known))}",
                at_value=field != "models",
            )
            continue
        labels = known[ref]
        if labels is not None:
            parts.append(labels)
    if (
        what == "cascade"
        and body.get("first") is not None
        and body.get("first") == body.get("then")
    ):
        out.add(
            (*path, what, "then"), "first and then must be different classifiers", at_value=True
        )
    if len(parts) != len(refs) or len(parts) < 2:
        return None
    shared = tuple(label for label in parts[0] if all(label in p for p in parts[1:]))
    if not shared:
        names = " and ".join(f"'{ref}'" for _, ref in refs)
        out.add((*path, what), f"{names} share no label, so there is nothing to combine")
        return None
    per_label = body.get("labels") if what == "cascade" else None
    for label in per_label if isinstance(per_label, dict) else {}:
        if label not in shared:
            out.add(
                (*path, what, "labels", label),
                f"'{label}' is not a label all its classifiers have ({', '.join(shared)})"
                + _hint(str(label), list(shared)),
            )
    return shared


def check_rule(
    out: Reporter,
    path: parser.Path,
    when: dict[str, Any],
    declared: dict[str, tuple[str, ...] | None],
) -> None:
    """A classifier rule names a declared model, one of its labels, and a threshold."""
    signals = when.get("signals")
    uses = isinstance(signals, list) and "classifier" in signals
    given = [f for f in _FIELDS if when.get(f) is not None]
    if not uses:
        if given:
            out.add(
                (*path, given[0]),
                f"{', '.join(given)} only apply to classifier signals; add classifier to "
                "signals or remove them",
            )
        return
    name, label = when.get("classifier"), when.get("label")
    if name is None:
        listed = ", ".join(declared) or "none declared"
        out.add(
            (*path, "classifier"),
            f"classifier signals need classifier: the name of a model declared under "
            f"classifiers ({listed})",
        )
    elif isinstance(name, str) and name not in declared:
        out.add(
            (*path, "classifier"),
            f"classifier '{name}' is not declared under classifiers{_hint(name, list(declared))}",
            at_value=True,
        )
    labels = declared.get(name) if isinstance(name, str) else None
    if label is None:
        known = f" ({', '.join(labels)})" if labels else ""
        out.add(
            (*path, "label"), f"classifier signals need label: one of the model's labels{known}"
        )
    elif isinstance(label, str) and labels is not None and label not in labels:
        out.add(
            (*path, "label"),
            f"'{label}' is not a label of classifier '{name}' (its labels: {', '.join(labels)})"
            + _hint(label, list(labels)),
            at_value=True,
        )
    if when.get("min_score") is None:
        out.add(
            (*path, "min_score"),
            "classifier signals need min_score: the lowest score (0 to 1) that counts; "
            "`vigil model eval` suggests one for a target precision",
        )


def resolve_paths(policy: Policy, base: Path | None) -> Policy:
    """The policy with every model ``path`` made absolute, as the pipeline will load it."""
    if not any(spec.path for spec in policy.classifiers.values()):
        return policy
    resolved = {
        name: spec.model_copy(update={"path": str(registry.locate(name, spec.path, base))})
        if spec.path
        else spec
        for name, spec in policy.classifiers.items()
    }
    return policy.model_copy(update={"classifiers": resolved})
