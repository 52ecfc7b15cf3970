"""Canonical JSON and the chain hash: the byte-level contract of the audit log."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from enum import Enum
from typing import Any

GENESIS_HASH = "0" * 64


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not allowed in an audit event")


def canonical_json(obj: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 text: one byte string per value."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    )


def chain_hash(prev_hash: str, body: str) -> str:
    """An event's hash covers its predecessor's hash and its own canonical body."""
    digest = hashlib.sha256()
    digest.update(prev_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(body.encode("utf-8"))
    return digest.hexdigest()
