"""Removing personal data from the free-text fields of a statement of reasons.

A statement goes to the public transparency database, which must hold no
personal data (DSA Art. 24(5)). The builder composes its text from the policy
only, but policy text is typed by people and may quote an address, a number or
a handle; this is the last line of defence. It runs when a statement is built
(so the stored body is clean) and again at export and submission.

Matching is deliberately generous (spacing, case, ``[at]``/``(dot)`` spellings,
full-width and zero-width characters) and tuned not to touch what policy text
legitimately holds: legal references such as ``Regulation (EU) 2021/784``,
``Art. 17(3)(d)``, ISO dates and amounts.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vigil.statements.rules import MAX_LENGTHS

# Every free-text field of the submission schema; the URL field and the puid are not prose.
FREE_TEXT_FIELDS: tuple[str, ...] = tuple(
    f for f in MAX_LENGTHS if f not in ("puid", "decision_ground_reference_url")
)

PLACEHOLDERS: dict[str, str] = {
    "identifier": "[identifier]",
    "email": "[email]",
    "url": "[link]",
    "ip": "[ip address]",
    "handle": "[handle]",
    "phone": "[phone number]",
    "number": "[number]",
}
_PLACEHOLDER_RE = re.compile("(" + "|".join(re.escape(p) for p in PLACEHOLDERS.values()) + ")")

# Top-level domains accepted for bare domains and loosely spelled addresses: every
# two-letter country code plus the generic ones people actually use.
_GENERIC_TLDS = (
    "com|net|org|info|biz|edu|gov|mil|int|name|pro|mobi|app|dev|page|xyz|online|site|"
    "website|shop|store|blog|news|club|live|life|tech|cloud|email|link|social|media|"
    "space|world|today|top|vip|work|art|fun|game|games|digital|network|group|agency|"
    "company|solutions|services|studio|design|onion|local|lan|internal|example|test|"
    "invalid|localhost|eu|asia|travel|tv|io|ai|me"
)
_TLD = rf"(?:{_GENERIC_TLDS}|[a-z]{{2}})"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_BRACKETED_DOT = r"\s*[\[({<]\s*(?:\.|dot)\s*[\])}>]\s*"
_BRACKETED_AT = r"\s*[\[({<]\s*(?:@|at)\s*[\])}>]\s*"
# Dots as people write them to dodge filters; spaced forms only where an '@' anchors them.
_DOT_LOOSE = rf"(?:\s*\.\s*|{_BRACKETED_DOT}|\s+dot\s+)"
_DOT_TIGHT = rf"(?:\.|{_BRACKETED_DOT}|\s+dot\s+)"
_DOT_BARE = rf"(?:\.|{_BRACKETED_DOT})"
_LOCAL = r"[a-z0-9!#$%&'*+=?^_`{|}~-]+(?:\s?\.\s?[a-z0-9!#$%&'*+=?^_`{|}~-]+)*"
_TRAILING = ".,;:!?)]}'\""

_FLAGS = re.IGNORECASE
_EMAIL = re.compile(
    rf"{_LOCAL}@{_LABEL}(?:{_DOT_LOOSE}{_LABEL})*{_DOT_LOOSE}[a-z]{{2,24}}(?![a-z0-9])"
    rf"|{_LOCAL}\s*@\s*{_LABEL}(?:{_DOT_LOOSE}{_LABEL})*{_DOT_LOOSE}{_TLD}(?![a-z0-9])",
    _FLAGS,
)
_EMAIL_SPELLED = re.compile(
    rf"{_LOCAL}(?:{_BRACKETED_AT}|\s+at\s+){_LABEL}(?:{_DOT_TIGHT}{_LABEL})*{_DOT_TIGHT}{_TLD}(?![a-z0-9])",
    _FLAGS,
)
_URL_SCHEME = re.compile(
    rf"(?:h[tx]{{2}}ps?|ftps?|wss?)\s*:\s*/\s*/\s*{_LABEL}(?:{_DOT_LOOSE}{_LABEL})*\S*"
    r"|(?<![\w.])www\s*\.\s*\S+",
    _FLAGS,
)
_URL_BARE = re.compile(
    rf"(?<![\w@.\-/])(?:{_LABEL}{_DOT_BARE})+{_TLD}(?![\w\-])(?:[/?#]\S*)?",
    _FLAGS,
)
_IPV6 = re.compile(
    r"(?<![0-9a-z:])[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:%\w+)?(?![0-9a-z:])", _FLAGS
)
_OCTET = r"\d{1,3}"
_IPV4 = re.compile(
    rf"(?<![\d.]){_OCTET}(?:{_DOT_LOOSE}{_OCTET}){{3}}(?:/\d{{1,2}}|:\d{{1,5}})?(?![\d])",
    _FLAGS,
)
_HANDLE = re.compile(
    r"(?<![\w@])@\s?[a-z0-9_](?:[a-z0-9_.-]{0,98}[a-z0-9_])?|(?<![\w/])/?u/[a-z0-9_-]{3,}",
    _FLAGS,
)
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\s*)?(?:\(\s*\d{1,4}\s*\)\s*)?\d(?:[ \t.\-()]{0,3}\d){6,16}(?![\w])",
    _FLAGS,
)
_LONG_DIGITS = re.compile(r"\d{6,}")
_DATE_LIKE = re.compile(r"\d{4}([-./])\d{1,2}\1\d{1,2}|\d{1,2}([-./])\d{1,2}\2\d{4}")
# Dates are never part of a phone number: '2025-07-01 (01.07.2025)' is two dates.
_PLACEHOLDER_OR_DATE_RE = re.compile(
    _PLACEHOLDER_RE.pattern
    + r"|(?<!\d)(?:\d{4}([-./])\d{1,2}\2\d{1,2}|\d{1,2}([-./])\d{1,2}\3\d{4})(?!\d)"
)
_AMOUNT = re.compile(r"[1-9]\d{0,2}(?:([.,])\d{3})(?:\1\d{3})*")
_INVISIBLE = {"Cf", "Cc"}


@dataclass(frozen=True)
class Finding:
    """One field that held personal data, and what kind (never the data itself)."""

    field: str
    kind: str


@dataclass(frozen=True)
class ScrubResult:
    body: dict[str, Any]
    findings: tuple[Finding, ...]

    @property
    def changed(self) -> bool:
        return bool(self.findings)

    @property
    def fields(self) -> list[str]:
        return sorted({f.field for f in self.findings})


def _normalise(text: str) -> str:
    """Full-width and compatibility forms folded, invisible characters dropped (not newlines)."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(c for c in folded if c in "\n\t" or unicodedata.category(c) not in _INVISIBLE)


def _outside(text: str, protected: re.Pattern[str], fn: Callable[[str], str]) -> str:
    """Apply ``fn`` to the parts of ``text`` that ``protected`` does not match."""
    out: list[str] = []
    start = 0
    for match in protected.finditer(text):
        out += [fn(text[start : match.start()]), match.group(0)]
        start = match.end()
    out.append(fn(text[start:]))
    return "".join(out)


def _trim(match: str) -> tuple[str, str]:
    """A URL without the sentence punctuation that follows it."""
    core = match.rstrip(_TRAILING)
    return core, match[len(core) :]


def _is_ip(candidate: str) -> bool:
    cleaned = re.sub(r"\s|[\[\](){}<>]|dot", "", candidate, flags=_FLAGS)
    cleaned = cleaned.split("/", 1)[0].split("%", 1)[0]
    if cleaned.count(".") == 3 and ":" in cleaned:
        cleaned = cleaned.rsplit(":", 1)[0]
    try:
        ipaddress.ip_address(cleaned)
    except ValueError:
        return False
    return True


def _is_phone(candidate: str) -> bool:
    stripped = candidate.strip()
    digits = sum(c.isdigit() for c in stripped)
    if digits < 7 or _DATE_LIKE.fullmatch(stripped) or _AMOUNT.fullmatch(stripped):
        return False
    # A bare run of digits is reported as a number by the later pass.
    return not stripped.isdigit()


def _identifier_pattern(identifier: str) -> re.Pattern[str] | None:
    """A pattern for a known handle or platform id, however it is spaced or cased."""
    chars = [c for c in _normalise(identifier).casefold() if c.isalnum()]
    if len(chars) < 3 or (all(c.isdigit() for c in chars) and len(chars) < 5):
        return None  # too short to remove without removing ordinary words and numbers
    body = r"[\W_]{0,3}".join(re.escape(c) for c in chars)
    # Short ids and plain words only as whole words: a handle 'remove' must not eat 'removed'.
    if len(chars) < 6 or all(c.isalpha() for c in chars):
        return re.compile(rf"(?<![^\W_]){body}(?![^\W_])", _FLAGS)
    return re.compile(body, _FLAGS)


class Scrubber:
    """Scrubs text against the generic patterns and a set of known identifiers."""

    def __init__(self, known: Iterable[str | None] = ()) -> None:
        patterns = {p.pattern: p for k in known if k and (p := _identifier_pattern(k))}
        # Longest first, so an id that contains another is removed whole.
        self._known = sorted(patterns.values(), key=lambda p: -len(p.pattern))

    def scrub(self, text: str) -> tuple[str, list[str]]:
        """The text without personal data, and the kinds found (in order of the passes)."""
        found: list[str] = []
        out = _normalise(text)

        def sub(
            pattern: re.Pattern[str], kind: str, keep: Callable[[str], bool] | None = None
        ) -> None:
            nonlocal out

            def replace(m: re.Match[str]) -> str:
                value = m.group(0)
                tail = ""
                if kind == "url":
                    value, tail = _trim(value)
                if keep is not None and keep(value):
                    return m.group(0)
                found.append(kind)
                return PLACEHOLDERS[kind] + tail

            protected = _PLACEHOLDER_OR_DATE_RE if kind == "phone" else _PLACEHOLDER_RE
            out = _outside(out, protected, lambda part: pattern.sub(replace, part))

        for pattern in self._known:
            sub(pattern, "identifier")
        sub(_EMAIL, "email")
        sub(_EMAIL_SPELLED, "email")
        sub(_URL_SCHEME, "url")
        sub(_IPV6, "ip", keep=lambda v: not _is_ip(v))
        sub(_IPV4, "ip", keep=lambda v: not _is_ip(v))
        sub(_URL_BARE, "url")
        sub(_HANDLE, "handle")
        sub(_PHONE, "phone", keep=lambda v: not _is_phone(v))
        sub(_LONG_DIGITS, "number")
        if not found:
            return text, []  # untouched: keep the original, not its normalised form
        return out, list(dict.fromkeys(found))

    def scrub_statement(self, body: Mapping[str, Any]) -> ScrubResult:
        """A copy of ``body`` with every free-text field scrubbed and kept within its length."""
        clean = dict(body)
        findings: list[Finding] = []
        for field in FREE_TEXT_FIELDS:
            value = clean.get(field)
            if not isinstance(value, str) or not value:
                continue
            text, kinds = self.scrub(value)
            if not kinds:
                continue
            limit = MAX_LENGTHS[field]
            if len(text) > limit:
                text = text[: limit - 1].rstrip() + "…"
            clean[field] = text
            findings.extend(Finding(field, kind) for kind in kinds)
        return ScrubResult(clean, tuple(findings))


def scrub_text(text: str, known: Sequence[str | None] = ()) -> str:
    """``text`` without e-mail addresses, phone numbers, IPs, handles, links, long numbers or ``known`` ids."""
    return Scrubber(known).scrub(text)[0]


def scrub_statement(body: Mapping[str, Any], known: Sequence[str | None] = ()) -> ScrubResult:
    """Scrub every free-text field of a submission body (see :data:`FREE_TEXT_FIELDS`)."""
    return Scrubber(known).scrub_statement(body)


def personal_data_in(body: Mapping[str, Any], known: Sequence[str | None] = ()) -> list[Finding]:
    """What the scrubber would remove from ``body``: empty means the body is clean."""
    return list(scrub_statement(body, known).findings)
