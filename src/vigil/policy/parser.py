"""YAML text to plain data, remembering where every value was written.

PyYAML's ``safe_load`` forgets line numbers and silently keeps the last of two
duplicate keys. We compose the node tree instead and build the data ourselves,
so validation can point a policy author at the exact line of each mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

PathKey = str | int
Path = tuple[PathKey, ...]
Position = tuple[int, int]  # 1-based line and column

_MERGE_TAG = "tag:yaml.org,2002:merge"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


@dataclass(frozen=True)
class ParseIssue:
    """A problem found while reading the YAML itself (before any schema check)."""

    line: int
    column: int
    path: Path
    message: str


@dataclass
class ParsedDocument:
    """Plain data plus where each part of it came from.

    ``keys`` holds the position of the key that introduced a mapping entry, and
    ``values`` the position where each value starts (sequence items have no key).
    ``raw`` holds the source text of scalar values, e.g. ``1.10`` read as ``1.1``.
    """

    data: Any = None
    keys: dict[Path, Position] = field(default_factory=dict)
    values: dict[Path, Position] = field(default_factory=dict)
    raw: dict[Path, str] = field(default_factory=dict)
    issues: list[ParseIssue] = field(default_factory=list)

    def position(self, path: Path, *, prefer_value: bool = False) -> Position:
        """Where ``path`` was written, or where its deepest written parent was."""
        if prefer_value and path in self.values:
            return self.values[path]
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            found = self.keys.get(prefix) or self.values.get(prefix)
            if found is not None:
                return found
        return (1, 1)


def _pos(node: Node) -> Position:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, doc: ParsedDocument) -> None:
        self.loader = loader
        self.doc = doc
        self.open: set[int] = set()  # collections being built, to refuse recursive aliases

    def _issue(self, node: Node, path: Path, message: str) -> None:
        line, column = _pos(node)
        self.doc.issues.append(ParseIssue(line, column, path, message))

    def build(self, node: Node, path: Path) -> Any:
        self.doc.values.setdefault(path, _pos(node))
        if isinstance(node, MappingNode | SequenceNode):
            if node.tag not in (_MAP_TAG, _SEQ_TAG):
                tag = node.tag.replace("tag:yaml.org,2002:", "!!")
                self._issue(node, path, f"unsupported YAML tag '{tag}'")
                return None
            if id(node) in self.open:
                self._issue(node, path, "an alias may not refer to itself")
                return None
            self.open.add(id(node))
            try:
                if isinstance(node, MappingNode):
                    return self._mapping(node, path)
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            finally:
                self.open.discard(id(node))
        if isinstance(node, ScalarNode):
            self.doc.raw[path] = str(node.value)
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        explicit = sum(1 for key, _ in node.value if key.tag != _MERGE_TAG)
        if explicit != len(node.value):
            # Merge keys (``<<: *anchor``) are rare in policies, but valid YAML: expand them.
            self.loader.flatten_mapping(node)
        merged = len(node.value) - explicit
        result: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        for index, (key_node, value_node) in enumerate(node.value):
            if not isinstance(key_node, ScalarNode):
                self._issue(key_node, path, "a key must be plain text, not a list or mapping")
                continue
            # Keep keys as written: YAML 1.1 would turn ``on:`` or ``no:`` into booleans.
            key = str(key_node.value)
            child = (*path, key)
            if index >= merged and key in first_seen:
                self._issue(
                    key_node,
                    child,
                    f"duplicate key '{key}': it is already set on line {first_seen[key]}; "
                    "remove one of them",
                )
                continue
            self.doc.keys[child] = _pos(key_node)
            if index >= merged:
                first_seen[key] = self.doc.keys[child][0]
            result[key] = self.build(value_node, child)
        return result


def _syntax_issue(exc: yaml.YAMLError) -> ParseIssue:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "not valid YAML"
        message = f"invalid YAML: {problem}"
        if "'\\t'" in problem:
            message += "; indent with spaces, not tabs"
        if exc.context and not exc.context.startswith("while"):
            message = f"invalid YAML: {exc.context}, {problem}"
        elif exc.context and exc.context_mark is not None:
            message += f" ({exc.context} on line {exc.context_mark.line + 1})"
        if mark is not None:
            return ParseIssue(mark.line + 1, mark.column + 1, (), message)
        return ParseIssue(1, 1, (), message)
    return ParseIssue(1, 1, (), f"invalid YAML: {exc}")


def parse_yaml(text: str) -> ParsedDocument:
    """Parse one YAML document; syntax errors and duplicate keys become issues."""
    doc = ParsedDocument()
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            doc.issues.append(ParseIssue(1, 1, (), "the file is empty; a policy is a YAML mapping"))
            return doc
        doc.data = _Builder(loader, doc).build(node, ())
    except yaml.YAMLError as exc:
        doc.data = None
        doc.issues = [_syntax_issue(exc)]
    finally:
        loader.dispose()
    return doc


def format_path(path: Path) -> str:
    """``('rules', 2, 'when', 'signals')`` -> ``rules[2].when.signals``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
