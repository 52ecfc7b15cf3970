"""Patterns are checked before they enter a bank; each refusal says why in words."""

from __future__ import annotations

import threading

import pytest

from vigil.banks.patterns import MAX_PATTERN_CHARS, PatternError, check_pattern


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "empty pattern"),
        ("x" * (MAX_PATTERN_CHARS + 1), "pattern is 301 characters long; the limit is 300"),
        (
            "(abc",
            "not a valid regular expression: missing ), unterminated subpattern at position 0",
        ),
        (
            "a{2,1}",
            "not a valid regular expression: min repeat greater than max repeat at position 2",
        ),
        (
            r"(\w)\1",
            "backreferences such as \\1 or (?P=name) are not allowed: "
            "they can make matching take exponential time",
        ),
        (
            r"(a+)+$",
            "a quantifier inside an unbounded quantifier, such as (a+)+ or (a*b?)*, "
            "can take exponential time; rewrite it without the nesting",
        ),
        (
            r"(?:\w+\s?)*end",
            "a quantifier inside an unbounded quantifier, such as (a+)+ or (a*b?)*, "
            "can take exponential time; rewrite it without the nesting",
        ),
        (
            r"start.*end",
            "unbounded .* or .+ scans to the end of the text from every position; "
            "use a bounded repeat such as .{0,50}",
        ),
        (
            r"a?",
            "the pattern can match empty text (such as a? or \\b alone), "
            "so it would match almost every item",
        ),
        (
            r"\b",
            "the pattern can match empty text (such as a? or \\b alone), "
            "so it would match almost every item",
        ),
    ],
)
def test_refusals_name_the_problem(pattern: str, message: str) -> None:
    with pytest.raises(PatternError) as exc:
        check_pattern(pattern)
    assert str(exc.value) == message


def test_polynomial_backtracking_is_caught_by_the_probe() -> None:
    # Cubic on a run of letters without an "x": seconds on 5,000 characters, hours on 100,000.
    with pytest.raises(PatternError, match=r"took longer than 0\.25 s on a 5,000-character probe"):
        check_pattern(r"\w+\s*\w+x")


def test_bounded_rewrite_of_the_same_pattern_passes() -> None:
    # About 0.03 s of CPU on the probes, against 0.23 s with {1,30}: well inside the budget.
    assert check_pattern(r"\w{1,10}\s{0,3}\w{1,10}x") is not None


def test_possessive_and_atomic_nesting_is_allowed() -> None:
    # Possessive repeats never give back what they matched, so nesting cannot explode.
    assert check_pattern(r"(?:a++b)+c") is not None


def test_the_probe_is_skipped_off_the_main_thread() -> None:
    errors: list[BaseException] = []

    def check() -> None:
        try:
            check_pattern(r"\w+\s*\w+x")  # passes the static checks; only the probe rejects it
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    worker = threading.Thread(target=check)
    worker.start()
    worker.join()
    assert errors == []
