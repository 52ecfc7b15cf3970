"""The scrubber removes personal data from free text, however it is spelled, and nothing else."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.statements.seed import HANDLE, seed_statements, stored
from tests.statements.sor_checker import SchemaChecker
from vigil.policy.schema import ActionKind, StatementConfig
from vigil.policy.services import load_active
from vigil.statements.builder import DETECTION_PHRASES, decision_facts
from vigil.statements.rules import MAX_LENGTHS, validate_statement
from vigil.statements.scrubber import (
    FREE_TEXT_FIELDS,
    PLACEHOLDERS,
    Scrubber,
    personal_data_in,
    scrub_statement,
    scrub_text,
)


def _wide(text: str) -> str:
    """The full-width form of ASCII text, as used to slip past naive filters."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# (text, the secret parts that must be gone, the kind reported)
LEAKS: list[tuple[str, list[str], str]] = [
    ("Write to john.doe@example.com today.", ["john", "doe", "example"], "email"),
    ("Write to JOHN.DOE@EXAMPLE.COM today.", ["JOHN", "DOE", "EXAMPLE"], "email"),
    ("Write to john . doe @ example . com today.", ["john", "doe", "example"], "email"),
    ("mail jane(at)mailhost(dot)de now", ["jane", "mailhost"], "email"),
    ("mail jane [at] mailhost [dot] de now", ["jane", "mailhost"], "email"),
    ("mail jane AT mailhost DOT de now", ["jane", "mailhost"], "email"),
    ("mail jane at mailhost.de now", ["jane", "mailhost"], "email"),
    (f"mail {_wide('jane@mailhost.de')} now", [_wide("jane"), "jane", "mailhost"], "email"),
    ("mail ja\u200bne@mail\u200bhost.de now", ["ja\u200bne", "jane", "mailhost"], "email"),
    ("mail first.last+tag@sub.mailhost.co.uk now", ["first", "last", "mailhost"], "email"),
    ("Call +49 30 1234567 now", ["1234567", "+49"], "phone"),
    ("Call +49 (0) 30 123 45 67 now", ["123 45 67", "+49"], "phone"),
    ("Call 0049-30-1234-5678 now", ["1234-5678"], "phone"),
    ("Call 030/1234567 now", ["1234567"], "number"),
    ("Call (030) 123.45.67 now", ["123.45.67"], "phone"),
    ("Call 06 12 34 56 78 now", ["12 34 56 78"], "phone"),
    ("from 192.168.10.20 at noon", ["192.168.10.20"], "ip"),
    ("from 192 . 168 . 10 . 20 at noon", ["192 . 168"], "ip"),
    ("from 192[.]168[.]10[.]20 at noon", ["192[.]168"], "ip"),
    ("from 10.0.0.1:8080 at noon", ["10.0.0.1"], "ip"),
    ("from 2001:db8:85a3::8a2e:370:7334 at noon", ["2001:db8", "7334"], "ip"),
    ("from FE80::1%eth0 at noon", ["FE80::1"], "ip"),
    ("by @someone_else today", ["someone_else"], "handle"),
    ("by @ Someone.Else today", ["Someone", "Else"], "handle"),
    ("by u/someone_else today", ["someone_else"], "handle"),
    ("see https://evil.example/p?id=5 today", ["evil", "id=5"], "url"),
    ("see HTTPS://EVIL.EXAMPLE/P today", ["EVIL"], "url"),
    ("see https : // evil . example / p today", ["evil"], "url"),
    ("see hxxps://evil[.]example/p today", ["evil"], "url"),
    ("see www.evil.example today", ["evil"], "url"),
    ("see evil.example/path today", ["evil"], "url"),
    ("see evil-shop.com today", ["evil-shop"], "url"),
    ("see evil[.]com today", ["evil"], "url"),
    ("account 123456789012 today", ["123456789012"], "number"),
    ("ticket 4711004711 today", ["4711004711"], "number"),
]

# Text that policy authors legitimately write: must come out unchanged.
LEGAL_TEXT = [
    "Regulation (EU) 2021/784 on addressing the dissemination of terrorist content online",
    "Directive 2011/93/EU, Art. 17(3)(d) DSA and § 130 StGB",
    "Regulation (EU) 2022/2065, Article 16(6), 18 U.S.C. § 2258A",
    "ISO 3166-1 and ISO 639-1 codes; EN 301 549",
    "In force since 2025-07-01 (01.07.2025); fines up to 1.000.000 EUR or 10,000,000 EUR.",
    "e.g. threats, i.e. statements of intent; see section 3.2 and clause 4(b).",
    "The decision was taken at review. It was upheld at 12:30.",
    "Terms of service: hateful conduct, harassment and bullying",
    "Policy rule: notice-threat-to-life.",
]


@pytest.mark.parametrize(("text", "secrets", "kind"), LEAKS, ids=[c[0] for c in LEAKS])
def test_personal_data_is_removed(text: str, secrets: list[str], kind: str) -> None:
    clean, kinds = Scrubber().scrub(text)
    for secret in secrets:
        assert secret.lower() not in clean.lower(), clean
    assert kind in kinds
    assert PLACEHOLDERS[kind] in clean
    # The words around the personal data survive.
    words = text.split()
    assert clean.split()[0] == words[0]
    assert clean.split()[-1] == words[-1]


@pytest.mark.parametrize("text", LEGAL_TEXT)
def test_legal_and_ordinary_text_is_kept(text: str) -> None:
    assert Scrubber(["acct-PLANTED-9931", "@planted_handle_x"]).scrub(text) == (text, [])


def test_the_shipped_policy_and_every_decision_fact_pass_unchanged() -> None:
    policy, _ = load_active(None)
    texts: list[str] = []
    for category in policy.categories.values():
        s = category.statement
        texts += [category.title, s.explanation, s.legal_ground or "", s.terms_clause or ""]
        for action, source, reviewed in itertools.product(
            [k for k in ActionKind if k in _PHRASED],
            ["voluntary", "article_16", "trusted_flagger"],
            [True, False],
        ):
            texts.append(
                decision_facts(
                    action=action,
                    category_title=category.title,
                    signals=list(DETECTION_PHRASES),
                    reviewed_by_person=reviewed,
                    rule_id=next(iter(r.id for r in policy.rules)),
                    source=source,  # type: ignore[arg-type]
                )
            )
    assert len(texts) > 50
    for text in texts:
        assert scrub_text(text, [HANDLE, "acct-PLANTED-7781"]) == text


_PHRASED = (
    ActionKind.REMOVE_CONTENT,
    ActionKind.RESTRICT_VISIBILITY,
    ActionKind.SUSPEND_ACCOUNT,
    ActionKind.CLOSE_ACCOUNT,
)


@pytest.mark.parametrize(
    "spelling",
    [
        "acct-PLANTED-9931",
        "ACCT-planted-9931",
        "acct planted 9931",
        "acct_planted_9931",
        "a.c.c.t.p.l.a.n.t.e.d.9.9.3.1",
        "Acct - Planted - 9931",
        "acct\u200b-planted-9931",
        _wide("acct-PLANTED-9931"),
    ],
)
def test_known_identifiers_are_removed_however_spelled(spelling: str) -> None:
    clean, kinds = Scrubber(["acct-PLANTED-9931"]).scrub(f"The account {spelling} was warned.")
    assert clean == "The account [identifier] was warned."
    assert kinds == ["identifier"]


def test_known_handles_are_removed_with_or_without_the_at_sign() -> None:
    scrubber = Scrubber(["@Planted_Handle_X", "item-PLANTED-4471"])
    clean, _ = scrubber.scrub(
        "Posts by planted handle x and @PLANTED_HANDLE_X (item-planted-4471)."
    )
    assert "planted" not in clean.lower()
    assert clean.startswith("Posts by [identifier] and ")


def test_short_or_wordlike_identifiers_only_go_as_whole_words() -> None:
    # A one-character id must not strip digits; a handle that is a word must not eat longer words.
    assert scrub_text("Article 17 applies.", ["7", "17x"]) == "Article 17 applies."
    assert scrub_text("Content removed by the removal team.", ["remove"]) == (
        "Content removed by the removal team."
    )
    assert scrub_text("Bob wrote it; bobsleigh is fine.", ["bob"]) == (
        "[identifier] wrote it; bobsleigh is fine."
    )
    # A short numeric platform id would collide with years and article numbers: left to the
    # generic rules, which catch it once it is long enough to identify anyone.
    assert scrub_text("Regulation (EU) 2021/784", ["784", "2021"]) == "Regulation (EU) 2021/784"


def test_scrubbing_is_idempotent() -> None:
    scrubber = Scrubber(["acct-PLANTED-9931", "email", "link"])
    for text, _, _ in LEAKS:
        once, _ = scrubber.scrub(text)
        assert scrubber.scrub(once) == (once, []), text


def test_free_text_fields_are_every_prose_field_of_the_schema(shared_dir: Path) -> None:
    schema = json.loads((shared_dir / "reference" / "dsa_sor_schema.json").read_text("utf-8"))
    prose = {
        name
        for name, spec in schema["fields"].items()
        if spec["type"] == "string" and "max" in spec and name != "puid"
    }
    assert set(FREE_TEXT_FIELDS) == prose
    assert "decision_ground_reference_url" not in FREE_TEXT_FIELDS


def test_every_free_text_field_of_a_body_is_scrubbed_and_nothing_else() -> None:
    leak = "ask jane.roe@mailhost.de or +43 1 234 5678 about @janeroe"
    body: dict[str, Any] = {f: f"{f} {leak}" for f in FREE_TEXT_FIELDS}
    body.update(
        puid="vigil-0123456789abcdef",
        decision_ground_reference_url="https://vigil.example/terms#3",
        content_date="2025-06-30",
        territorial_scope=["DE", "AT"],
    )
    result = scrub_statement(body)
    for name in FREE_TEXT_FIELDS:
        assert result.body[name] == f"{name} ask [email] or [phone number] about [handle]"
    for name in ("puid", "decision_ground_reference_url", "content_date", "territorial_scope"):
        assert result.body[name] == body[name]
    assert result.fields == sorted(FREE_TEXT_FIELDS)
    assert {f.kind for f in result.findings} == {"email", "phone", "handle"}
    assert "jane" not in repr(result.findings)
    assert body["decision_facts"].endswith("@janeroe")  # the input is not modified
    assert personal_data_in(result.body) == []


def test_scrubbed_text_stays_within_the_field_limit() -> None:
    limit = MAX_LENGTHS["illegal_content_explanation"]
    text = ("x a@b.co " * 400)[:limit]
    result = scrub_statement({"illegal_content_explanation": text})
    assert len(result.body["illegal_content_explanation"]) <= limit
    assert "@" not in result.body["illegal_content_explanation"]


def test_a_long_text_is_scrubbed_quickly() -> None:
    import time

    text = "The content attacks people on the basis of a protected characteristic. " * 70
    started = time.perf_counter()
    assert scrub_text(text, [HANDLE]) == text
    assert time.perf_counter() - started < 1.0


def _with_explanation(explanation: str) -> StatementConfig:
    return StatementConfig(
        category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        keywords=["KEYWORD_HATE_SPEECH"],
        ground="incompatible",
        terms_clause="Community guidelines, section 3; questions to abuse@platform.example",
        explanation=explanation,
        reference_url="https://vigil.example/guidelines#3",
    )


def test_an_explanation_with_personal_data_is_stored_scrubbed(
    engine: Engine, sor_checker: SchemaChecker
) -> None:
    explanation = (
        "Attacks on people are not allowed. Complaints about this go to "
        "Trust.Desk@Platform.Example or +49 30 1234567; the post by @planted_handle_4411 "
        f"(account acct-PLANTED-7781, {HANDLE.upper()}) was seen from 203.0.113.7."
    )
    [puid] = seed_statements(engine, 1, statement=_with_explanation(explanation))
    body = stored(engine, puid).body
    text = json.dumps(body).lower()
    for secret in (
        "trust.desk",
        "platform.example",
        "1234567",
        HANDLE,
        "planted-7781",
        "203.0.113",
    ):
        assert secret not in text, secret
    assert body["incompatible_content_explanation"].startswith(
        "Attacks on people are not allowed. Complaints about this go to [email] or [phone number];"
    )
    assert body["incompatible_content_ground"] == (
        "Community guidelines, section 3; questions to [email]"
    )
    assert body["decision_ground_reference_url"] == "https://vigil.example/guidelines#3"
    assert validate_statement(body) == []
    assert sor_checker.check(body) == []
    assert personal_data_in(body, [HANDLE, "acct-PLANTED-7781"]) == []
