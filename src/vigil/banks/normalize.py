"""Normalisation shared by bank import and matching, so both sides compare like with like."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "si"}
)
_URL_IN_TEXT = re.compile(r"""(?i)\b(?:https?://|www\.)[^\s<>"'\]\[{}|\\^`]+""")
_TRAILING = ".,;:!?)'\"\u00bb\u201d\u2019"
_SPACES = re.compile(r"\s+")


class NormaliseError(ValueError):
    """A value that cannot be a bank entry of its kind."""


def normalise_host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    if host.startswith("www."):
        host = host[4:]
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise NormaliseError(f"invalid host name {host!r}") from exc
    if not host or " " in host:
        raise NormaliseError("empty host name")
    return host


def normalise_url(url: str) -> str:
    """Lower-case scheme and host, drop ``www.``, default ports, fragments and tracking parameters."""
    raw = url.strip()
    if raw.lower().startswith("www."):
        raw = "http://" + raw
    parts = urlsplit(raw)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise NormaliseError(f"not an http(s) URL: {url!r}")
    host = normalise_host(parts.hostname)
    port = parts.port
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~") or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS
    ]
    # The scheme is not part of identity: http and https copies of a page are the same content.
    return urlunsplit(("https", netloc, path, urlencode(sorted(query)), ""))


def url_domains(normalised_url: str) -> list[str]:
    """The host and each parent domain: ``a.b.example.com`` -> itself, ``b.example.com``, ``example.com``."""
    host = urlsplit(normalised_url).hostname or ""
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)] or [host]


def normalise_domain(domain: str) -> str:
    value = domain.strip()
    if "://" in value:
        value = urlsplit(value).hostname or ""
    return normalise_host(value.split("/")[0])


def normalise_text(text: str) -> str:
    """Compatibility-fold, case-fold and collapse whitespace (for term and exact-text matching)."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def normalise_hex(value: str, length: int) -> str:
    v = value.strip().lower()
    if len(v) != length or any(c not in "0123456789abcdef" for c in v):
        raise NormaliseError(f"expected {length} hex digits, got {value!r}")
    return v


def extract_urls(text: str) -> list[str]:
    """URLs written in free text, with trailing punctuation removed."""
    return [m.group(0).rstrip(_TRAILING) for m in _URL_IN_TEXT.finditer(text)]


TEXT_DIGEST_PREFIX = "sha256:"


def text_digest(text: str) -> str:
    """SHA-256 of the normalised text: what items store as ``text_sha256``."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


def normalise_text_entry(value: str) -> str:
    """A text-bank entry: ``sha256:<hex>`` as given, or the text itself, hashed.

    Text banks keep only the digest, so an export never contains the text and
    later matches work on items whose text has already been dropped.
    """
    stripped = value.strip()
    if stripped.lower().startswith(TEXT_DIGEST_PREFIX):
        return normalise_hex(stripped[len(TEXT_DIGEST_PREFIX) :], 64)
    if not normalise_text(value):
        raise NormaliseError("empty text")
    return text_digest(value)


def normalise_entry(kind: str, value: str) -> str:
    """The stored form of a bank entry of ``kind``."""
    if kind == "sha256":
        return normalise_hex(value, 64)
    if kind == "md5":
        return normalise_hex(value, 32)
    if kind == "pdq":
        return normalise_hex(value, 64)
    if kind == "text":
        return normalise_text_entry(value)
    if kind == "regex":
        from vigil.banks.patterns import PatternError, check_pattern

        pattern = value.strip()
        try:
            check_pattern(pattern)
        except PatternError as exc:
            raise NormaliseError(str(exc)) from None
        return pattern
    if kind == "url":
        return normalise_url(value)
    if kind == "domain":
        return normalise_domain(value)
    if kind == "term":
        term = normalise_text(value)
        if not term:
            raise NormaliseError("empty term")
        return term
    raise NormaliseError(f"unknown bank kind {kind!r}")
