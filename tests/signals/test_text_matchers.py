"""Term and pattern semantics: whole words, case-folding, overlaps, and an exact prefilter."""

from __future__ import annotations

import random
import re

import pytest

from vigil.banks.normalize import normalise_text
from vigil.banks.patterns import FLAGS, check_pattern, required_literal
from vigil.signals.text_matchers import RegexMatcher, TermMatcher


def terms_in(text: str, *terms: str) -> dict[str, list[tuple[int, int]]]:
    return TermMatcher(normalise_text(t) for t in terms).occurrences(normalise_text(text))


def test_terms_match_whole_words_only() -> None:
    found = terms_in("Grass is green; the class passed", "ass", "green", "class")
    assert set(found) == {"green", "class"}


def test_terms_are_case_folded_and_compatibility_normalised() -> None:
    # Full-width letters, upper case, a German sharp s and extra whitespace all fold;
    # terms are stored normalised too ("straße" becomes "strasse").
    found = terms_in("\uff32\uff25\uff24   Hand\tFRONT and STRASSE", "red hand front", "straße")
    assert set(found) == {"red hand front", "strasse"}


def test_overlapping_terms_all_match() -> None:
    found = terms_in("i will hurt you now", "will hurt", "hurt you", "hurt", "you now")
    assert set(found) == {"will hurt", "hurt you", "hurt", "you now"}


def test_every_occurrence_is_listed_once() -> None:
    found = terms_in("kill, kill and killer", "kill")
    assert found == {"kill": [(0, 4), (6, 10)]}


def test_terms_beginning_or_ending_with_punctuation_keep_the_boundary_rule() -> None:
    assert set(terms_in("see #tag here", "#tag")) == {"#tag"}
    assert terms_in("see a#tag here", "#tag") == {}


def test_no_terms_matches_nothing() -> None:
    assert TermMatcher([]).occurrences("anything") == {}


def pattern_hits(text: str, *patterns: str) -> set[str]:
    return set(RegexMatcher(patterns).occurrences(normalise_text(text)))


def test_patterns_ignore_case_and_see_normalised_text() -> None:
    hits = pattern_hits("BUY   NOW!!", r"buy now", r"Buy\s{1,3}Now", r"buy  now")
    # Whitespace is collapsed before matching, so two literal spaces never match.
    assert hits == {r"buy now", r"Buy\s{1,3}Now"}


def test_patterns_need_their_own_word_boundaries() -> None:
    assert pattern_hits("classic", r"ass") == {"ass"}
    assert pattern_hits("classic", r"\bass\b") == set()


def test_patterns_report_non_overlapping_spans() -> None:
    found = RegexMatcher([r"\d{3}"]).occurrences("call 1234567 now")
    assert found == {r"\d{3}": [(5, 8), (8, 11)]}


def test_required_literal_is_taken_from_the_main_path_only() -> None:
    assert required_literal(r"\bkill\s{1,3}(?:all|every)\b") == "kill"
    assert required_literal(r"(?:abc|xyz)def") == "def"
    assert required_literal(r"bo?mb") == "mb"
    assert required_literal(r"(?:foo){2,3}bar") == "foo"
    assert required_literal(r"[a-z]{3}") == ""


def test_prefilter_agrees_with_running_every_pattern() -> None:
    rng = random.Random(11)
    words = ["kill", "bomb", "buy", "now", "free", "pills", "attack", "meet", "at", "dawn"]
    shapes = [
        r"\b{a}\W{{1,3}}{b}\b",
        r"{a}s?",
        r"(?:{a}|{b})\s{{1,2}}\w{{1,10}}",
        r"{a}\d{{2,4}}",
        r"\d{{3}}[ -]?{a}",
    ]
    patterns = [
        rng.choice(shapes).format(a=rng.choice(words), b=rng.choice(words)) for _ in range(200)
    ]
    texts = [
        " ".join(
            rng.choice([*words, "the", "a", "123", "KILL", "dotless k\u0131ll"]) for _ in range(12)
        )
        for _ in range(300)
    ]
    matcher = RegexMatcher(patterns)
    compiled = {p: re.compile(p, FLAGS) for p in patterns}
    for raw in texts:
        text = normalise_text(raw)
        expected = {p for p, c in compiled.items() if c.search(text)}
        assert set(matcher.occurrences(text)) == expected, raw


def test_dotless_i_does_not_hide_a_match_from_the_prefilter() -> None:
    # re.IGNORECASE matches "i" with U+0131, which case-folding keeps as it is.
    assert pattern_hits("k\u0131ll them", "kill") == {"kill"}


@pytest.mark.parametrize(
    "pattern",
    [r"kill\s{1,3}(?:all|every)\s{1,3}\w{1,20}", r"\bbuy\W{1,3}now\b", r"\d{3}[-. ]?\d{4}"],
)
def test_ordinary_patterns_pass_the_checks(pattern: str) -> None:
    assert check_pattern(pattern).pattern == pattern
