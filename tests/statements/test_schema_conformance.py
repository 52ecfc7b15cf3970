"""Built statements conform to the reference schema, and the product's validator agrees with it."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, Literal, get_args

import pytest

from tests.statements.sor_checker import SchemaChecker
from vigil.policy.schema import ActionKind, StatementConfig
from vigil.statements import dsa
from vigil.statements.builder import (
    Automation,
    Source,
    StatementFacts,
    build_statement,
    content_types_for,
    new_puid,
)
from vigil.statements.rules import validate_statement

Body = dict[str, Any]


@pytest.fixture(scope="module")
def schema(shared_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (shared_dir / "reference" / "dsa_sor_schema.json").read_text(encoding="utf-8")
    )
    return data


@pytest.fixture(scope="module")
def checker(schema: dict[str, Any]) -> SchemaChecker:
    return SchemaChecker(schema)


def test_every_schema_condition_is_encoded(checker: SchemaChecker) -> None:
    assert checker.not_understood == []
    assert len(checker.rules) > 20


@pytest.mark.parametrize(
    ("field", "product"),
    [
        ("decision_visibility", dsa.DECISION_VISIBILITY),
        ("decision_monetary", dsa.DECISION_MONETARY),
        ("decision_provision", dsa.DECISION_PROVISION),
        ("decision_account", dsa.DECISION_ACCOUNT),
        ("account_type", dsa.ACCOUNT_TYPES),
        ("decision_ground", dsa.DECISION_GROUNDS),
        ("content_type", dsa.CONTENT_TYPES),
        ("category", dsa.STATEMENT_CATEGORIES),
        ("category_addition", dsa.STATEMENT_CATEGORIES),
        ("category_specification", dsa.KEYWORDS),
        ("territorial_scope", dsa.TERRITORIAL_SCOPE),
        ("content_language", dsa.CONTENT_LANGUAGES),
        ("source_type", dsa.SOURCE_TYPES),
        ("automated_decision", dsa.AUTOMATED_DECISION),
    ],
)
def test_product_enum_matches_schema(
    schema: dict[str, Any], field: str, product: tuple[str, ...]
) -> None:
    assert list(product) == schema["fields"][field]["enum"]


def test_country_and_keyword_tables_match_schema(schema: dict[str, Any]) -> None:
    assert list(dsa.EU_COUNTRIES) == schema["fields"]["territorial_scope"]["eu_codes"]
    assert set(dsa.EEA_COUNTRIES) == set(schema["fields"]["territorial_scope"]["enum"])
    expected = {k: v for k, v in schema["category_to_keywords"].items() if not k.startswith("_")}
    assert {k: list(v) for k, v in dsa.CATEGORY_KEYWORDS.items()} == expected


Ground = Literal["illegal", "incompatible"]


def _config(schema: dict[str, Any], category: str, ground: Ground, n: int) -> StatementConfig:
    keywords = schema["category_to_keywords"][category][: n % 3]
    return StatementConfig(
        category=category,
        keywords=keywords,
        ground=ground,
        legal_ground="Art. 5 of Directive 2011/93/EU" if ground == "illegal" else None,
        terms_clause="Community guidelines, section 4" if ground == "incompatible" else None,
        explanation="The content falls under this category of our code of practice.",
        reference_url="https://example.org/terms#s4" if n % 2 else None,
    )


_KINDS: list[tuple[str, list[str | None], bool]] = [("post", ["image/jpeg"], True), ("profile", [], False), ("media", [None], False),
          ("comment", [], True), ("post", ["video/mp4", "audio/ogg"], False)]  # fmt: skip
_LANGS = ["en", "de-AT", "xx", None, "EL"]


def _all_facts(schema: dict[str, Any]) -> list[StatementFacts]:
    out = []
    combos = itertools.product(
        [k for k in ActionKind if k.is_restriction],
        schema["fields"]["category"]["enum"],
        get_args(Ground),
        get_args(Source),
        (True, False),
        get_args(Automation),
    )
    for n, (action, category, ground, source, detected, decision) in enumerate(combos):
        kind, mimes, text = _KINDS[n % len(_KINDS)]
        time_limited = action in (ActionKind.SUSPEND_ACCOUNT, ActionKind.RESTRICT_ACCOUNT)
        suspended = time_limited and n % 2 == 0
        out.append(
            StatementFacts(
                puid=new_puid(),
                action=action,
                statement=_config(schema, category, ground, n),
                content_types=content_types_for(kind, mimes, text),
                content_date=date(2024, 3, 1),
                application_date=date(2025, 7, 1),
                end_date=date(2025, 8, 1) if suspended else None,
                language=_LANGS[n % len(_LANGS)],
                source=source,
                automated_detection=detected,
                automated_decision=decision,
                account_type="business" if n % 2 else "private",
                facts="The content was removed under the policy category 'Example'.",
                content_type_other="Account profile" if kind == "profile" else None,
            )
        )
    return out


def test_every_combination_builds_a_conforming_body(
    schema: dict[str, Any], checker: SchemaChecker
) -> None:
    all_facts = _all_facts(schema)
    assert len(all_facts) == 5 * 16 * 2 * 3 * 2 * 3
    for facts in all_facts:
        body = build_statement(facts)
        assert checker.check(body) == [], (facts, body)
        assert validate_statement(body) == []
        assert "source_identity" not in body
        assert body["territorial_scope"] == list(dsa.EEA_COUNTRIES)


def _base(schema: dict[str, Any], ground: Ground = "illegal") -> Body:
    facts = _all_facts(schema)[0]
    config = _config(schema, "STATEMENT_CATEGORY_VIOLENCE", ground, 1)
    return build_statement(dataclasses.replace(facts, statement=config, end_date=None))


def _set(**changes: Any) -> Callable[[Body], None]:
    def mutate(body: Body) -> None:
        for key, value in changes.items():
            if value is _DROP:
                body.pop(key, None)
            else:
                body[key] = value

    return mutate


_DROP = object()

# (id, ground of the base body, mutation, field the product's message must name)
INVALID: list[tuple[str, Ground, Callable[[Body], None], str]] = [
    ("no_decision_field", "illegal", _set(decision_visibility=_DROP), "decision_visibility"),
    ("visibility_other_without_text", "illegal",
     _set(decision_visibility=["DECISION_VISIBILITY_OTHER"]), "decision_visibility_other"),
    ("visibility_text_without_other", "illegal",
     _set(decision_visibility_other="Shadow ban"), "decision_visibility_other"),
    ("monetary_other_without_text", "illegal",
     _set(decision_monetary="DECISION_MONETARY_OTHER"), "decision_monetary_other"),
    ("monetary_text_without_other", "illegal",
     _set(decision_monetary="DECISION_MONETARY_SUSPENSION", decision_monetary_other="x"),
     "decision_monetary_other"),
    ("content_other_without_text", "illegal",
     _set(content_type=["CONTENT_TYPE_OTHER"], content_type_other=_DROP), "content_type_other"),
    ("content_text_without_other", "illegal",
     _set(content_type=["CONTENT_TYPE_TEXT"], content_type_other="Profile"), "content_type_other"),
    ("keyword_text_without_other", "illegal",
     _set(category_specification_other="x"), "category_specification_other"),
    ("illegal_without_legal_ground", "illegal",
     _set(illegal_content_legal_ground=_DROP), "illegal_content_legal_ground"),
    ("illegal_without_explanation", "illegal",
     _set(illegal_content_explanation=""), "illegal_content_explanation"),
    ("incompatible_fields_with_illegal_ground", "illegal",
     _set(incompatible_content_ground="Terms s.4"), "incompatible_content_ground"),
    ("incompatible_illegal_flag_with_illegal_ground", "illegal",
     _set(incompatible_content_illegal="Yes"), "incompatible_content_illegal"),
    ("incompatible_without_terms", "incompatible",
     _set(incompatible_content_ground=_DROP), "incompatible_content_ground"),
    ("illegal_fields_with_incompatible_ground", "incompatible",
     _set(illegal_content_legal_ground="Art. 5"), "illegal_content_legal_ground"),
    ("bad_puid", "illegal", _set(puid="vigil/1 2"), "puid"),
    ("too_long_puid", "illegal", _set(puid="a" * 501), "puid"),
    ("content_date_too_early", "illegal", _set(content_date="1999-12-31"), "content_date"),
    ("application_date_too_early", "illegal",
     _set(application_date="2019-12-31"), "application_date"),
    ("application_date_too_late", "illegal",
     _set(application_date="2038-01-02"), "application_date"),
    ("date_not_ymd", "illegal", _set(content_date="01/03/2024"), "content_date"),
    ("end_date_too_late", "illegal",
     _set(decision_account="DECISION_ACCOUNT_SUSPENDED", end_date_account_restriction="2038-01-02"),
     "end_date_account_restriction"),
    ("end_before_application", "illegal",
     _set(end_date_visibility_restriction="2025-06-30"), "end_date_visibility_restriction"),
    ("lowercase_language", "illegal", _set(content_language="en"), "content_language"),
    ("unknown_language", "illegal", _set(content_language="XX"), "content_language"),
    ("source_identity_when_voluntary", "illegal",
     _set(source_type="SOURCE_VOLUNTARY", source_identity="Flagger org"), "source_identity"),
    ("empty_content_type", "illegal", _set(content_type=[]), "content_type"),
    ("too_long_facts", "illegal", _set(decision_facts="x" * 5001), "decision_facts"),
    ("automated_detection_key", "illegal", _set(automated_detection="YES"), "automated_detection"),
    ("bad_category", "illegal", _set(category="STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"), "category"),
    ("removed_keyword", "illegal", _set(category_specification=["KEYWORD_DANGEROUS_TOYS"]), "category_specification"),
    ("territory_el", "illegal", _set(territorial_scope=["EL"]), "territorial_scope"),
    ("bad_reference_url", "illegal", _set(decision_ground_reference_url="not a url"), "decision_ground_reference_url"),
    ("missing_ground", "illegal", _set(decision_ground=_DROP, illegal_content_legal_ground=_DROP,
                                       illegal_content_explanation=_DROP), "decision_ground"),
    ("bad_ean", "illegal", _set(content_id={"EAN-13": "123"}), "content_id"),
]  # fmt: skip


@pytest.mark.parametrize("ground", ["illegal", "incompatible"])
def test_base_bodies_are_valid(
    schema: dict[str, Any], checker: SchemaChecker, ground: Ground
) -> None:
    body = _base(schema, ground)
    assert checker.check(body) == []
    assert validate_statement(body) == []


@pytest.mark.parametrize(
    ("ground", "mutate", "field"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_body_is_rejected_by_both(
    schema: dict[str, Any],
    checker: SchemaChecker,
    ground: Ground,
    mutate: Callable[[Body], None],
    field: str,
) -> None:
    body = copy.deepcopy(_base(schema, ground))
    mutate(body)
    assert checker.check(body), "the schema-derived checker accepted it"
    problems = validate_statement(body)
    assert problems, "the product validator accepted it"
    assert any(field in p for p in problems), problems


_PREREQUISITES: dict[str, Body] = {
    "decision_visibility_other": {"decision_visibility": ["DECISION_VISIBILITY_OTHER"]},
    "decision_monetary_other": {"decision_monetary": "DECISION_MONETARY_OTHER"},
    "content_type_other": {"content_type": ["CONTENT_TYPE_OTHER"]},
    "category_specification_other": {"category_specification": ["KEYWORD_OTHER"]},
    "source_identity": {"source_type": "SOURCE_ARTICLE_16"},
}


def _max_fields(schema: dict[str, Any]) -> list[str]:
    return [name for name, spec in schema["fields"].items() if "max" in spec]


def test_every_max_length_is_enforced_by_both(
    schema: dict[str, Any], checker: SchemaChecker
) -> None:
    fields = _max_fields(schema)
    assert len(fields) >= 10
    for name in fields:
        limit = schema["fields"][name]["max"]
        ground: Ground = "incompatible" if name.startswith("incompatible_") else "illegal"
        for length, ok in ((limit, True), (limit + 1, False)):
            body = {**_base(schema, ground), **_PREREQUISITES.get(name, {})}
            if name == "decision_ground_reference_url":
                prefix = "https://example.org/"
                body[name] = prefix + "a" * (length - len(prefix))
            else:
                body[name] = "a" * length
            assert (checker.check(body) == []) is ok, (name, length, checker.check(body))
            assert (validate_statement(body) == []) is ok, (name, length)


def test_every_enum_rejects_an_unknown_value(
    schema: dict[str, Any], checker: SchemaChecker
) -> None:
    for name, spec in schema["fields"].items():
        if "enum" not in spec:
            continue
        body = _base(schema)
        body[name] = ["NOT_A_VALUE"] if spec["type"].startswith("array") else "NOT_A_VALUE"
        assert checker.check(body), name
        assert any(name in p for p in validate_statement(body)), name
