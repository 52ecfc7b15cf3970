"""A statement-of-reasons checker derived only from the reference schema extract.

It shares no code with ``vigil.statements.rules``: enums, types and maximum
lengths are read from the JSON's ``fields``, and the conditional rules are
parsed from the ``conditions`` and ``derived_rules`` text. Every condition
string must be either understood or listed in :data:`INFORMATIONAL`, so a new
rule in the extract makes the conformance test fail until it is encoded.

The server *drops* fields named in ``exclude_unless`` / "excluded" rules rather
than rejecting them; this checker rejects them, because a dropped field means
the published statement differs from the one the user received.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

Rule = Callable[[dict[str, Any]], str | None]

INFORMATIONAL = frozenset(
    {
        "nullable",
        "Art. 17(3)(d) illegal vs 17(3)(e) T&C",
        "blank does not imply legal",
        "single high-level category (exhaustive list)",
        "same enum as category; multiple allowed",
        "keywords (Implementing Reg. (EU) 2024/2835 specifications)",
        "validator: array, nullable (docs call it required)",
        "ISO 3166-1 alpha-2 EU/EEA codes only (GR used for Greece, not EL)",
        "server sorts/uniques; full EU list rendered as 'European Union', full EEA list as 'European Economic Area'",
        "date content was posted/uploaded or account registered",
        "date from which restriction applies",
        "nullable (blank = indefinite)",
        "no personal data (Art. 24(5))",
        "orders from authorities not under Art. 9 -> SOURCE_TYPE_OTHER_NOTIFICATION",
        "only if strictly necessary (Art. 17(3)(b)); no personal data",
        "literal 'Yes'/'No' (not keys)",
        "unique per platform forever (never reused); duplicate -> 422 with 'existing' object",
        "alternative flat form of content_id.EAN-13",
        "No personal data in any field (DSA Art. 24(5))",
        "Array enum values and single enum values are the KEY strings (e.g. 'DECISION_VISIBILITY_CONTENT_REMOVED'), except automated_detection and incompatible_content_illegal which use 'Yes'/'No'",
    }
)


def present(body: dict[str, Any], name: str) -> bool:
    return body.get(name) not in (None, "", [])


def holds(body: dict[str, Any], name: str, value: str) -> bool:
    current = body.get(name)
    return current == value or (isinstance(current, list) and value in current)


def as_date(value: Any) -> date | None:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _required_if(dep: str, name: str, value: str) -> Rule:
    def rule(body: dict[str, Any]) -> str | None:
        if holds(body, name, value) and not present(body, dep):
            return f"{dep}: required when {name} has {value}"
        return None

    return rule


def _exclude_unless(dep: str, name: str, value: str) -> Rule:
    def rule(body: dict[str, Any]) -> str | None:
        if present(body, dep) and not holds(body, name, value):
            return f"{dep}: excluded unless {name} has {value}"
        return None

    return rule


def _exclude_if(dep: str, name: str, value: str) -> Rule:
    def rule(body: dict[str, Any]) -> str | None:
        if present(body, dep) and holds(body, name, value):
            return f"{dep}: excluded when {name} is {value}"
        return None

    return rule


def _one_of(names: list[str]) -> Rule:
    def rule(body: dict[str, Any]) -> str | None:
        return None if any(present(body, n) for n in names) else f"{names}: none present"

    return rule


def _date_cmp(name: str, bound: str, after: bool) -> Rule:
    def rule(body: dict[str, Any]) -> str | None:
        day = as_date(body.get(name))
        limit = as_date(bound) if as_date(bound) else as_date(body.get(bound))
        if day is None or limit is None:
            return None
        if (day < limit) if after else (day > limit):
            return f"{name}: {day} out of bound {bound}"
        return None

    return rule


def _regex(name: str, path: str | None, pattern: str) -> Rule:
    compiled = re.compile(pattern)

    def rule(body: dict[str, Any]) -> str | None:
        if not present(body, name):
            return None
        value = body[name]
        if path is not None:
            value = value.get(path) if isinstance(value, dict) else None
            if value is None:
                return None
        if not isinstance(value, str) or not compiled.search(value):
            return f"{name}: does not match {pattern}"
        return None

    return rule


def _only_key(name: str, key: str) -> Rule:
    def rule(body: dict[str, Any]) -> str | None:
        value = body.get(name)
        if present(body, name) and (not isinstance(value, dict) or set(value) - {key}):
            return f"{name}: only key {key} allowed"
        return None

    return rule


def _upper(name: str) -> Rule:
    def rule(body: dict[str, Any]) -> str | None:
        value = body.get(name)
        if isinstance(value, str) and value != value.upper():
            return f"{name}: not upper case"
        return None

    return rule


def _url(name: str) -> Rule:
    def rule(body: dict[str, Any]) -> str | None:
        value = body.get(name)
        if not present(body, name):
            return None
        if not isinstance(value, str) or " " in value:
            return f"{name}: not a URL"
        parts = urlsplit(value)
        return None if parts.scheme and parts.netloc else f"{name}: not a URL"

    return rule


@dataclass
class SchemaChecker:
    schema: dict[str, Any]
    rules: list[Rule] = field(default_factory=list)
    not_understood: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.fields: dict[str, dict[str, Any]] = self.schema["fields"]
        self._pending_requirement: tuple[str, str, str] | None = None
        for name, spec in self.fields.items():
            for text in spec.get("conditions", []):
                self._field_condition(name, text)
        for text in self.schema["derived_rules"]:
            self._derived(text)

    def _understood(self, rule: Rule | list[Rule]) -> None:
        self.rules.extend(rule if isinstance(rule, list) else [rule])

    def _field_condition(self, name: str, text: str) -> None:
        if text in INFORMATIONAL or text.startswith("nullable; "):
            return
        if m := re.match(r"required_without_all:([\w,]+)", text):
            return self._understood(_one_of([name, *m.group(1).split(",")]))
        if m := re.fullmatch(r"required_if:(\w+),(\w+)", text):
            return self._understood(_required_if(name, m.group(1), m.group(2)))
        if m := re.fullmatch(r"exclude_unless:(\w+),(\w+)", text):
            return self._understood(_exclude_unless(name, m.group(1), m.group(2)))
        if m := re.fullmatch(r"required if '(\w+)' in (\w+)", text):
            self._pending_requirement = (name, m.group(2), m.group(1))
            return self._understood(_required_if(name, m.group(2), m.group(1)))
        if re.fullmatch(r"excluded( \(dropped\))? otherwise", text) and self._pending_requirement:
            dep, base, value = self._pending_requirement
            if dep == name:
                return self._understood(_exclude_unless(name, base, value))
        if m := re.fullmatch(r"excluded when (\w+) == (\w+)", text):
            return self._understood(_exclude_if(name, m.group(1), m.group(2)))
        if m := re.search(r"nulls it unless (\w+) in (\w+)", text):
            return self._understood(_exclude_unless(name, m.group(2), m.group(1)))
        if m := re.fullmatch(r"(after|before)_or_equal:(\d{4}-\d{2}-\d{2})", text):
            return self._understood(_date_cmp(name, m.group(2), m.group(1) == "after"))
        if m := re.search(r"must be >= (\w+)", text):
            return self._understood(_date_cmp(name, m.group(1), True))
        if m := re.fullmatch(r"(?:(\w+)\.(\S+) )?regex (\S+)", text):
            return self._understood(_regex(name, m.group(2), m.group(3)))
        if m := re.fullmatch(r"only key '([^']+)'", text):
            return self._understood(_only_key(name, m.group(1)))
        if text.startswith("each element in enum"):
            return None  # enforced by the type/enum pass; 'null' admission read there
        if text == "non-empty array":
            return None  # enforced by the required pass ([] counts as absent)
        if text == "must be a valid URL":
            return self._understood(_url(name))
        if text == "uppercase ISO 639-1 two-letter code":
            return self._understood(_upper(name))
        self.not_understood.append(f"{name}: {text}")
        return None

    def _derived(self, text: str) -> None:
        if text in INFORMATIONAL:
            return
        if m := re.fullmatch(r"At least one of ([\w, ]+) must be non-empty", text):
            return self._understood(_one_of([n.strip() for n in m.group(1).split(",")]))
        if m := re.fullmatch(r"(\w+)=(\w+) => (.+?) required; (?:.*; )?(\w+)_\* dropped", text):
            name, value, required, dropped = m.groups()
            for dep in re.findall(r"(\w+) \(<=\d+\)", required):
                self._understood(_required_if(dep, name, value))
            for dep in (f for f in self.fields if f.startswith(f"{dropped}_")):
                self._understood(_exclude_if(dep, name, value))
            return None
        if m := re.match(
            r"'_OTHER' enum selections require the matching \*_other free text \(([^)]*)\); (\w+) goes with (\w+)",
            text,
        ):
            for short in (s.strip() for s in m.group(1).split(",")):
                base = short if short in self.fields else f"decision_{short}"
                other = next(v for v in self.fields[base]["enum"] if v.endswith("_OTHER"))
                self._understood(_required_if(f"{base}_other", base, other))
            dep = m.group(2)
            base = dep.removesuffix("_other")
            return self._understood(_exclude_unless(dep, base, m.group(3)))
        if m := re.fullmatch(r"(\w+) ignored when (\w+)=(\w+)", text):
            return self._understood(_exclude_if(m.group(1), m.group(2), m.group(3)))
        self.not_understood.append(f"derived: {text}")
        return None

    def check(self, body: dict[str, Any]) -> list[str]:
        errors: list[str] = []
        for name, spec in self.fields.items():
            if spec.get("required") is True and not present(body, name):
                errors.append(f"{name}: required")
            if present(body, name):
                errors.extend(self._shape(name, spec, body[name]))
        errors.extend(e for rule in self.rules if (e := rule(body)) is not None)
        return errors

    def _shape(self, name: str, spec: dict[str, Any], value: Any) -> list[str]:
        kind: str = spec["type"]
        enum = spec.get("enum")
        if kind.startswith("array"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return [f"{name}: not an array of strings"]
            admits_null = any("admits literal 'null'" in c for c in spec.get("conditions", []))
            allowed = set(enum or []) | ({"null"} if admits_null else set())
            return [f"{name}: {v} not in enum" for v in value if enum and v not in allowed]
        if kind == "object":
            return [] if isinstance(value, dict) else [f"{name}: not an object"]
        if not isinstance(value, str):
            return [f"{name}: not a string"]
        if kind.startswith("date") and as_date(value) is None:
            return [f"{name}: not Y-m-d"]
        if enum and value not in enum:
            return [f"{name}: {value} not in enum"]
        if "max" in spec and len(value) > spec["max"]:
            return [f"{name}: longer than {spec['max']}"]
        return []
