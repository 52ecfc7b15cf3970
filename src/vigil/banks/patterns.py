"""Checking regular expressions before they enter a bank.

Python's ``re`` backtracks, so a careless pattern can take seconds or hours on
one item and stall every scan. Each pattern is checked at import:

- at most ``MAX_PATTERN_CHARS`` characters;
- it compiles, and cannot match empty text (it would match almost every item);
- no backreferences, no quantifier nested inside an unbounded quantifier
  (``(a+)+``: exponential time) and no unbounded ``.*``/``.+`` (quadratic on
  long texts; write ``.{0,50}``);
- it finishes a probe over adversarial texts within ``PROBE_BUDGET_S``,
  which catches polynomial blow-ups such as ``\\w+\\s*\\w+x``.

What remains: a pattern can pass all of this and still be slow on some text.
The probe runs only in the main thread (it needs ``SIGVTALRM``); elsewhere only
the static checks apply. Patterns run over the normalised text (NFKC,
case-folded, whitespace collapsed) with ``re.IGNORECASE``.
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Iterator
from re import _parser  # type: ignore[attr-defined]
from types import FrameType
from typing import Any

MAX_PATTERN_CHARS = 300
PROBE_BUDGET_S = 0.25
PROBE_CHARS = 5_000
FLAGS = re.IGNORECASE

_PROBES = (
    "a" * PROBE_CHARS,
    ("a " * PROBE_CHARS)[:PROBE_CHARS],
    "1" * PROBE_CHARS,
    ("ab1 -." * PROBE_CHARS)[:PROBE_CHARS],
    ("the quick brown fox jumps over the lazy dog 12345 " * 100)[:PROBE_CHARS],
)
_UNBOUNDED = _parser.MAXREPEAT
_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})


class PatternError(ValueError):
    """A pattern that may not enter a bank, with the reason in words."""


def check_pattern(pattern: str, *, probe: bool = True) -> re.Pattern[str]:
    """The compiled pattern, or :class:`PatternError` saying what is wrong with it."""
    if not pattern:
        raise PatternError("empty pattern")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(
            f"pattern is {len(pattern)} characters long; the limit is {MAX_PATTERN_CHARS}"
        )
    try:
        compiled = re.compile(pattern, FLAGS)
        tree = _parser.parse(pattern, FLAGS)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        raise PatternError(f"not a valid regular expression: {exc.msg}{where}") from exc
    _check_tree(tree, inside_unbounded=False)
    if tree.getwidth()[0] == 0:
        raise PatternError(
            "the pattern can match empty text (such as a? or \\b alone), "
            "so it would match almost every item"
        )
    if probe:
        _probe(compiled)
    return compiled


def _check_tree(tree: Any, *, inside_unbounded: bool) -> None:
    for op, av in tree:
        name = str(op)
        if name in ("GROUPREF", "GROUPREF_EXISTS"):
            raise PatternError(
                "backreferences such as \\1 or (?P=name) are not allowed: "
                "they can make matching take exponential time"
            )
        if name in _REPEATS:
            _low, high, body = av
            repeats = high > 1
            if repeats and inside_unbounded and name != "POSSESSIVE_REPEAT":
                raise PatternError(
                    "a quantifier inside an unbounded quantifier, such as (a+)+ or (a*b?)*, "
                    "can take exponential time; rewrite it without the nesting"
                )
            if high == _UNBOUNDED and any(str(o) == "ANY" for o, _ in body):
                raise PatternError(
                    "unbounded .* or .+ scans to the end of the text from every position; "
                    "use a bounded repeat such as .{0,50}"
                )
            unbounded = high == _UNBOUNDED and name != "POSSESSIVE_REPEAT"
            _check_tree(body, inside_unbounded=inside_unbounded or unbounded)
            continue
        for sub in _subpatterns(av):
            _check_tree(sub, inside_unbounded=inside_unbounded)


def _subpatterns(av: Any) -> Iterator[Any]:
    if isinstance(av, _parser.SubPattern):
        yield av
    elif isinstance(av, tuple | list):
        for part in av:
            yield from _subpatterns(part)


def required_literal(pattern: str) -> str:
    """The longest ASCII literal every match must contain (lower-cased), or ``""``.

    The scan uses it as a prefilter: a pattern whose literal is absent from the
    text cannot match, so it is not run. Only literals on the pattern's main
    path count (not inside alternatives or optional parts), so this is exact.
    """
    best = ""
    run: list[str] = []

    def close_run() -> None:
        nonlocal best
        text = "".join(run)
        run.clear()
        if len(text) > len(best):
            best = text

    def walk(tree: Any) -> None:
        for op, av in tree:
            name = str(op)
            if name == "LITERAL" and 32 <= av < 127:
                run.append(chr(av).lower())
                continue
            close_run()
            if name == "SUBPATTERN":
                walk(av[3])
            elif name in _REPEATS and av[0] >= 1:
                walk(av[2])
            elif name == "ATOMIC_GROUP":
                walk(av)
            close_run()

    walk(_parser.parse(pattern, FLAGS))
    close_run()
    return best


class _TooSlowError(Exception):
    pass


def _probe(compiled: re.Pattern[str]) -> None:
    """Time the pattern on adversarial texts; ``SIGVTALRM`` interrupts a runaway match.

    The budget is the process's own CPU time, not wall time, so a busy machine
    does not make an acceptable pattern look slow.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        return

    def _alarm(_signum: int, _frame: FrameType | None) -> None:
        raise _TooSlowError

    previous = signal.signal(signal.SIGVTALRM, _alarm)
    try:
        signal.setitimer(signal.ITIMER_VIRTUAL, PROBE_BUDGET_S)
        for text in _PROBES:
            for _ in compiled.finditer(text):
                pass
    except _TooSlowError:
        raise PatternError(
            f"the pattern took longer than {PROBE_BUDGET_S} s on a "
            f"{PROBE_CHARS:,}-character probe text; it backtracks too much to run on every "
            "item (bound the repeats, e.g. \\w{1,10} instead of \\w+)"
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, previous)
