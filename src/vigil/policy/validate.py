"""Check a policy file and explain every mistake with its line number.

A policy decides what gets removed and who gets reported, so a typo must never
load silently. Checking runs in three passes, like a small compiler: YAML
(``parser``), shape (the Pydantic models in ``schema``), then the cross-references
Pydantic cannot see. Every pass reports all it finds, sorted by line.
"""

from __future__ import annotations

import datetime as dt
import difflib
import enum
import re
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from vigil.policy import classifier_checks, parser
from vigil.policy.schema import CATEGORY_ID, RATE_BUCKET, Policy, parse_duration
from vigil.statements import dsa

REQUIRED_CATEGORIES: tuple[str, ...] = (
    "terrorism",
    "child_sexual_exploitation",
    "threat_to_life",
    "hate",
    "harassment",
    "spam",
)

_NOUNS = {
    "severity": "a severity",
    "action": "an action",
    "review": "a review mode",
    "signals": "a signal kind",
    "ground": "a decision ground",
    "unmatched_content": "a retention choice",
    "kind": "a classifier kind",
    "four_eyes_actions": "an action",
    "route": "a referral route",
    "priority": "a referral priority",
}


@dataclass(frozen=True)
class PolicyIssue:
    """One error in a policy file, rendered like a compiler diagnostic."""

    filename: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f" (at {self.path})" if self.path else ""
        return f"{self.filename}:{self.line}:{self.column}: error: {self.message}{where}"


class PolicyError(Exception):
    """A policy that must not be used; ``issues`` says why, line by line."""

    def __init__(self, issues: Sequence[PolicyIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


class _Collector:
    def __init__(self, doc: parser.ParsedDocument, filename: str) -> None:
        self.doc = doc
        self.filename = filename
        self.issues: list[PolicyIssue] = []

    def add(self, path: parser.Path, message: str, *, at_value: bool = False) -> None:
        """Report at ``path``'s key (or its value), else at its nearest written parent."""
        line, column = self.doc.position(path, prefer_value=at_value)
        self.issues.append(
            PolicyIssue(self.filename, line, column, parser.format_path(path), message)
        )

    def at_value(self, path: parser.Path, message: str) -> None:
        self.add(path, message, at_value=True)

    def line_of(self, path: parser.Path) -> int:
        return self.doc.position(path)[0]

    def sorted(self) -> list[PolicyIssue]:
        unique = dict.fromkeys(self.issues)
        return sorted(unique, key=lambda i: (i.line, i.column))


def _suggest(word: str, options: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(options), n=1, cutoff=0.75)
    return matches[0] if matches else None


def _hint(word: str, options: Iterable[str], otherwise: str = "") -> str:
    """``"; did you mean 'x'?"`` for a near miss, else ``otherwise``."""
    match = _suggest(word, options)
    return f"; did you mean '{match}'?" if match else otherwise


# --- pass 2: shape, via Pydantic -------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _annotation_at(loc: Sequence[Any]) -> Any:
    """The declared type at ``loc`` inside :class:`Policy`, or ``None`` if unknown."""
    current: Any = Policy
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) in (list, dict):
            current = get_args(current)[-1]
        else:
            return None
    return _unwrap(current)


def _fields_at(loc: Sequence[Any]) -> list[str]:
    model = _annotation_at(loc)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _choices(annotation: Any) -> list[str]:
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(member.value) for member in annotation]
    if get_origin(annotation) is Literal:
        return [str(arg) for arg in get_args(annotation)]
    return []


def _describe(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a true/false value"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _number(value: Any) -> str:
    """``1.0`` reads as ``1`` in a message about a limit."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _subject(loc: tuple[Any, ...], field: str) -> str:
    """How a message names the value: ``signals``, ``each entry of banks``, ``'hate'``."""
    if loc and isinstance(loc[-1], int):
        return f"each entry of {field}"
    if loc and get_origin(_annotation_at(loc[:-1])) is dict:
        return f"'{field}'"
    return field


def _shape_message(err: Any, raw: str | None) -> str:
    kind, loc, value, ctx = err["type"], tuple(err["loc"]), err.get("input"), err.get("ctx") or {}
    names = [p for p in loc if isinstance(p, str)]
    field = names[-1] if names else "the policy"
    subject = _subject(loc, field)
    shown = raw if raw is not None else str(value)
    if kind == "missing":
        return f"missing required field '{field}'"
    if kind == "extra_forbidden":
        known = _fields_at(loc[:-1])
        return f"unknown field '{field}'" + _hint(
            field, known, f"; allowed fields: {', '.join(known)}"
        )
    if kind in ("enum", "literal_error"):
        options = _choices(_annotation_at(loc))
        choices = ", ".join(options)
        if value is None:
            return f"{field} is empty; expected one of: {choices}"
        noun = _NOUNS.get(field, f"a valid {field}")
        return f"'{shown}' is not {noun}" + _hint(shown, options, f"; expected one of: {choices}")
    if kind == "string_type" and value is None:
        return f"{subject} must not be empty"
    if kind == "string_type" and loc == ("version",) and not isinstance(value, list | dict):
        return (
            f"version must be text, but YAML reads {shown} as {_describe(value)}; "
            f'quote it: version: "{shown}"'
        )
    if kind == "string_type":
        quote = "; put it in quotes" if isinstance(value, int | float | dt.date) else ""
        return f"{subject} must be text, not {_describe(value)}{quote}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{subject} must be a whole number, not {_describe(value)}"
    if kind in ("float_type", "float_parsing"):
        return f"{subject} must be a number, not {_describe(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"{subject} must be true or false, not {_describe(value)}"
    if kind == "list_type":
        return f"{subject} must be a list, e.g. [a, b], not {_describe(value)}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        if not loc:
            return "a policy must be a YAML mapping with policy, version, categories and rules"
        return f"{subject} must be a mapping of fields, not {_describe(value)}"
    if kind in ("string_too_short", "too_short"):
        return f"{subject} must not be empty"
    if kind == "string_too_long":
        return f"{subject} is too long: at most {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch" and field == "sha256":
        return (
            "sha256 must be 64 lowercase hexadecimal digits (SHA-256 of the model's manifest.json)"
        )
    if kind == "string_pattern_mismatch" and field == "id":
        return (
            f"'{shown}' is not a valid rule id; use lowercase letters, digits, '-' and '_', "
            "starting with a letter or digit"
        )
    if kind == "greater_than_equal":
        return f"{subject} must be at least {_number(ctx.get('ge'))}"
    if kind == "greater_than":
        return f"{subject} must be greater than {_number(ctx.get('gt'))}"
    if kind == "less_than_equal":
        return f"{subject} must be at most {_number(ctx.get('le'))}"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    return f"{field}: {err['msg']}"


def _check_shape(out: _Collector) -> Policy | None:
    try:
        return Policy.model_validate(out.doc.data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # "unknown field 'sevrity'; did you mean 'severity'?" already explains the missing field.
        misspelt = set()
        for err in errors:
            loc = tuple(err["loc"])
            if err["type"] == "extra_forbidden" and isinstance(loc[-1], str):
                misspelt.add((*loc[:-1], _suggest(loc[-1], _fields_at(loc[:-1]))))
        for err in errors:
            loc = tuple(err["loc"])
            if err["type"] == "missing" and loc in misspelt:
                continue
            message = _shape_message(err, out.doc.raw.get(loc))
            out.add(loc, message, at_value=err["type"] not in ("missing", "extra_forbidden"))
        return None


# --- pass 3: cross-references ----------------------------------------------------


def _check_statement(out: _Collector, path: parser.Path, statement: dict[str, Any]) -> None:
    category = statement.get("category")
    if isinstance(category, str) and category not in dsa.STATEMENT_CATEGORIES:
        every = "; expected one of: " + ", ".join(dsa.STATEMENT_CATEGORIES)
        tail = _hint(category, dsa.STATEMENT_CATEGORIES, every)
        out.at_value((*path, "category"), f"'{category}' is not a DSA statement category{tail}")
    keywords = statement.get("keywords")
    for index, keyword in enumerate(keywords if isinstance(keywords, list) else []):
        if isinstance(keyword, str) and keyword not in dsa.KEYWORDS:
            fitting = dsa.CATEGORY_KEYWORDS.get(category) if isinstance(category, str) else None
            listed = f"; keywords for {category} are: {', '.join(fitting)}" if fitting else ""
            tail = _hint(keyword, dsa.KEYWORDS, listed or "; see vigil.statements.dsa.KEYWORDS")
            out.at_value((*path, "keywords", index), f"'{keyword}' is not a DSA keyword{tail}")
    ground = statement.get("ground")
    if ground == "illegal" and not statement.get("legal_ground"):
        out.add(
            (*path, "legal_ground"),
            "ground 'illegal' needs legal_ground: name the law the content breaks",
        )
    if ground == "incompatible" and not statement.get("terms_clause"):
        out.add(
            (*path, "terms_clause"),
            "ground 'incompatible' needs terms_clause: name the clause of your terms it breaks",
        )


def _check_categories(out: _Collector, categories: dict[str, Any]) -> None:
    for cid, category in categories.items():
        if not re.match(CATEGORY_ID, cid):
            out.add(
                ("categories", cid),
                f"'{cid}' is not a valid category id; use lowercase letters, digits and '_', "
                "starting with a letter",
            )
        if isinstance(category, dict) and isinstance(category.get("statement"), dict):
            _check_statement(out, ("categories", cid, "statement"), category["statement"])
    missing = [c for c in REQUIRED_CATEGORIES if c not in categories]
    if missing:
        out.add(
            ("categories",),
            f"missing required categories: {', '.join(missing)} "
            f"(every policy must define {', '.join(REQUIRED_CATEGORIES)})",
        )


def _check_category_refs(
    out: _Collector, path: parser.Path, values: Any, known: set[str], what: str
) -> None:
    for index, value in enumerate(values if isinstance(values, list) else []):
        if isinstance(value, str) and value not in known:
            tail = _hint(value, known)
            out.at_value((*path, index), f"{what} '{value}' is not defined under categories{tail}")


def _check_rule(
    out: _Collector,
    index: int,
    rule: dict[str, Any],
    known: set[str] | None,
    classifiers: dict[str, tuple[str, ...] | None],
) -> None:
    path: parser.Path = ("rules", index)
    category = rule.get("category")
    if known is not None and isinstance(category, str) and category not in known:
        tail = _hint(category, known)
        out.at_value(
            (*path, "category"), f"category '{category}' is not defined under categories{tail}"
        )
    if rule.get("review") == "required" and not rule.get("deadline"):
        out.add(
            (*path, "deadline"),
            "review: required needs a deadline for the reviewer, e.g. deadline: 24h",
        )
    when = rule.get("when")
    if not isinstance(when, dict):
        return
    signals = when.get("signals")
    if when.get("notice_categories") is not None and (
        not isinstance(signals, list) or "notice" not in signals
    ):
        out.add(
            (*path, "when", "notice_categories"),
            "notice_categories only applies to notice signals; add notice to signals "
            "or remove notice_categories",
        )
    classifier_checks.check_rule(out, (*path, "when"), when, classifiers)
    if known is not None:
        for name, what in (
            ("bank_categories", "bank category"),
            ("notice_categories", "notice category"),
        ):
            _check_category_refs(out, (*path, "when", name), when.get(name), known, what)


def _duration_or_none(value: Any) -> dt.timedelta | None:
    try:
        return parse_duration(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _check_safeguards(out: _Collector, safeguards: Any) -> None:
    """Windows must be whole counting buckets, and the baseline longer than the window."""
    rate = safeguards.get("match_rate") if isinstance(safeguards, dict) else None
    if not isinstance(rate, dict):
        return
    path: parser.Path = ("safeguards", "match_rate")
    bucket = int(RATE_BUCKET.total_seconds() // 60)
    spans = {name: _duration_or_none(rate.get(name)) for name in ("window", "baseline")}
    for name, span in list(spans.items()):
        if span is not None and (not span or span % RATE_BUCKET):
            spans[name] = None
            out.at_value(
                (*path, name),
                f"{name} must be a whole number of {bucket}-minute counting buckets, "
                f"e.g. {bucket}m, 1h or 7d",
            )
    window, baseline = spans["window"], spans["baseline"]
    if window is not None and baseline is not None and baseline <= window:
        out.at_value(
            (*path, "baseline"),
            f"baseline ({rate['baseline']}) must be longer than window ({rate['window']}): "
            "it is the usual rate that a burst in the window is compared with",
        )


def _check_references(out: _Collector, base: Path | None) -> None:
    data = out.doc.data
    if not isinstance(data, dict):
        return
    version = data.get("version")
    if isinstance(version, str) and version and not version.strip():
        out.at_value(("version",), "version must not be blank")
    categories = data.get("categories")
    known = set(categories) if isinstance(categories, dict) else None
    if isinstance(categories, dict):
        _check_categories(out, categories)
    _check_safeguards(out, data.get("safeguards"))
    classifiers = classifier_checks.check_declarations(out, data.get("classifiers"), base)
    rules = data.get("rules")
    first_use: dict[str, int] = {}
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, dict):
            continue
        rule_id = rule.get("id")
        if isinstance(rule_id, str):
            if rule_id in first_use:
                line = out.line_of(("rules", first_use[rule_id], "id"))
                out.at_value(
                    ("rules", index, "id"),
                    f"duplicate rule id '{rule_id}': rules[{first_use[rule_id]}] on line {line} "
                    "already uses it",
                )
            else:
                first_use[rule_id] = index
        _check_rule(out, index, rule, known, classifiers)


# --- entry points ----------------------------------------------------------------


def _compile(text: str, filename: str) -> tuple[list[PolicyIssue], Policy | None]:
    doc = parser.parse_yaml(text)
    out = _Collector(doc, filename)
    for p in doc.issues:
        out.issues.append(
            PolicyIssue(filename, p.line, p.column, parser.format_path(p.path), p.message)
        )
    if doc.data is None and doc.issues:
        return out.sorted(), None
    policy = _check_shape(out)
    # Model paths in a policy file are relative to that file's folder.
    base = Path(filename).parent if Path(filename).is_file() else None
    _check_references(out, base)
    issues = out.sorted()
    if policy is None or issues:
        return issues, None
    return issues, classifier_checks.resolve_paths(policy, base)


def check_policy(text: str, filename: str = "<policy>") -> list[PolicyIssue]:
    """Every problem in ``text``, sorted by line; empty when the policy may be used."""
    return _compile(text, filename)[0]


def load_policy_text(text: str, filename: str = "<policy>") -> Policy:
    """The validated policy, or :class:`PolicyError` listing every problem."""
    issues, policy = _compile(text, filename)
    if policy is None:
        raise PolicyError(issues)
    return policy


def read_policy_file(path: Path) -> str:
    """The file's text; unreadable or non-UTF-8 files become a :class:`PolicyError`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PolicyError(
            [PolicyIssue(str(path), 1, 1, "", f"cannot read the file: {exc.strerror}")]
        ) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        issue = PolicyIssue(str(path), line, column, "", "the file is not valid UTF-8 text")
        raise PolicyError([issue]) from exc


def load_policy(path: Path) -> Policy:
    """Read and validate the policy file at ``path``."""
    return load_policy_text(read_policy_file(path), str(path))
