"""Signatures: what a receiver checks, and every way a forged or replayed delivery fails."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import timedelta

import pytest

from tests.platform.support import SECRET, T0
from vigil.platform import signing

BODY = b'{"data":{},"id":"evt_1","type":"action.applied"}'


def _headers() -> dict[str, str]:
    return signing.sign(SECRET, event_id="evt_1", event_type="action.applied", body=BODY, now=T0)


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    headers = _headers()
    stamp = int(T0.timestamp())
    expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert headers == {
        "Vigil-Event-Id": "evt_1",
        "Vigil-Event-Type": "action.applied",
        "Vigil-Timestamp": str(stamp),
        "Vigil-Signature": f"v1={expected}",
    }
    assert signing.verify(SECRET, headers, BODY, now=T0 + timedelta(seconds=299)) == "evt_1"


def test_header_names_are_case_insensitive() -> None:
    lowered = {k.lower(): v for k, v in _headers().items()}
    assert signing.verify(SECRET, lowered, BODY, now=T0) == "evt_1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda h, b: (h, b + b" "), "does not match"),
        (
            lambda h, b: ({**h, "Vigil-Timestamp": str(int(h["Vigil-Timestamp"]) + 1)}, b),
            "does not match",
        ),
        (lambda h, b: ({**h, "Vigil-Signature": "v1=" + "0" * 64}, b), "does not match"),
        (
            lambda h, b: ({**h, "Vigil-Signature": h["Vigil-Signature"].replace("v1=", "v0=")}, b),
            "does not match",
        ),
        (
            lambda h, b: ({k: v for k, v in h.items() if k != "Vigil-Signature"}, b),
            "Signature header missing",
        ),
        (
            lambda h, b: ({k: v for k, v in h.items() if k != "Vigil-Timestamp"}, b),
            "Timestamp header missing",
        ),
        (
            lambda h, b: ({k: v for k, v in h.items() if k != "Vigil-Event-Id"}, b),
            "Event-Id header missing",
        ),
        (lambda h, b: ({**h, "Vigil-Timestamp": "soon"}, b), "not a Unix time"),
    ],
)
def test_tampered_deliveries_are_rejected(
    change: Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]], message: str
) -> None:
    headers, body = change(_headers(), BODY)
    with pytest.raises(signing.SignatureError, match=message):
        signing.verify(SECRET, headers, body, now=T0)


def test_wrong_secret_is_rejected() -> None:
    with pytest.raises(signing.SignatureError, match="does not match"):
        signing.verify("another-secret", _headers(), BODY, now=T0)


@pytest.mark.parametrize("skew", [301, -301, 86400])
def test_stale_or_future_timestamps_are_rejected(skew: int) -> None:
    with pytest.raises(signing.SignatureError, match="stale or replayed"):
        signing.verify(SECRET, _headers(), BODY, now=T0 + timedelta(seconds=skew))


def test_tolerance_is_configurable() -> None:
    later = T0 + timedelta(seconds=30)
    assert signing.verify(SECRET, _headers(), BODY, now=later, tolerance=30) == "evt_1"
    with pytest.raises(signing.SignatureError):
        signing.verify(SECRET, _headers(), BODY, now=later, tolerance=29)


def test_any_of_several_signatures_may_match_during_secret_rotation() -> None:
    headers = _headers()
    old = signing.sign("old-secret", event_id="evt_1", event_type="x", body=BODY, now=T0)
    both = {**headers, "Vigil-Signature": f"{old['Vigil-Signature']}, {headers['Vigil-Signature']}"}
    assert signing.verify(SECRET, both, BODY, now=T0) == "evt_1"
    assert signing.verify("old-secret", both, BODY, now=T0) == "evt_1"
    with pytest.raises(signing.SignatureError):
        signing.verify("third-secret", both, BODY, now=T0)
