"""Webhook signatures: HMAC-SHA256 over ``f"{timestamp}.{body}"`` with the endpoint's secret.

The timestamp is signed with the body so a captured request cannot be replayed
later than ``tolerance`` seconds; within that window a replay carries an event id
the receiver has already seen, and receivers dedupe by it. ``verify`` is what a
receiver runs (it is also what Vigil's own tests run against real deliveries).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from vigil.db.base import utcnow

EVENT_ID_HEADER = "Vigil-Event-Id"
EVENT_TYPE_HEADER = "Vigil-Event-Type"
TIMESTAMP_HEADER = "Vigil-Timestamp"
SIGNATURE_HEADER = "Vigil-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE = 300


class SignatureError(ValueError):
    """The request is not a genuine, fresh Vigil delivery."""


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def compute(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}.{body}"``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(_as_bytes(secret), message, hashlib.sha256).hexdigest()


def sign(
    secret: str | bytes,
    *,
    event_id: str,
    event_type: str,
    body: bytes,
    now: datetime | None = None,
) -> dict[str, str]:
    """The headers for one delivery attempt; every retry is signed afresh with its own time."""
    timestamp = int((now or utcnow()).timestamp())
    return {
        EVENT_ID_HEADER: event_id,
        EVENT_TYPE_HEADER: event_type,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: f"{SCHEME}={compute(secret, timestamp, body)}",
    }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def verify(
    secret: str | bytes,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
) -> str:
    """Check a delivery's signature and freshness; return its event id.

    Raises :class:`SignatureError` when a header is missing, the timestamp is more
    than ``tolerance`` seconds from ``now`` (either way), or no ``v1=`` signature
    matches. Comparison is constant-time. Several comma-separated ``v1=`` values are
    accepted so a sender can sign with an old and a new secret during rotation.
    """
    event_id = _header(headers, EVENT_ID_HEADER)
    stamp = _header(headers, TIMESTAMP_HEADER)
    signature = _header(headers, SIGNATURE_HEADER)
    if not event_id:
        raise SignatureError(f"{EVENT_ID_HEADER} header missing")
    if not stamp:
        raise SignatureError(f"{TIMESTAMP_HEADER} header missing")
    if not signature:
        raise SignatureError(f"{SIGNATURE_HEADER} header missing")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise SignatureError(f"{TIMESTAMP_HEADER} is not a Unix time") from None
    age = (now or utcnow()).timestamp() - timestamp
    if abs(age) > tolerance:
        raise SignatureError(
            f"{TIMESTAMP_HEADER} is {int(age)} s from now (tolerance {tolerance} s): stale or replayed"
        )
    expected = compute(secret, timestamp, body)
    candidates = [
        part.strip()[len(SCHEME) + 1 :]
        for part in signature.split(",")
        if part.strip().startswith(f"{SCHEME}=")
    ]
    # Compare against every candidate so timing does not reveal which one matched.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(candidate.encode("ascii", "replace"), expected.encode())
    if not matched:
        raise SignatureError(f"{SIGNATURE_HEADER} does not match the body and timestamp")
    return event_id
