"""Every validation error has a golden file: NAME.yaml and the exact report in NAME.expected.

Run with ``UPDATE_GOLDEN=1`` to rewrite the expected files after an intended
change of wording, then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vigil.policy.validate import check_policy

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(GOLDEN.glob("*.yaml"))


def render(case: Path) -> str:
    issues = check_policy(case.read_text(encoding="utf-8"), case.name)
    return "".join(f"{issue}\n" for issue in issues)


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden(case: Path) -> None:
    expected_file = case.with_suffix(".expected")
    actual = render(case)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        expected_file.write_text(actual, encoding="utf-8")
    assert expected_file.exists(), f"{expected_file.name} missing; run with UPDATE_GOLDEN=1"
    assert actual == expected_file.read_text(encoding="utf-8")


def test_every_expected_file_has_a_case() -> None:
    orphans = {p.stem for p in GOLDEN.glob("*.expected")} - {c.stem for c in CASES}
    assert not orphans


def test_golden_set_covers_every_kind_of_error() -> None:
    assert len(CASES) >= 15
    assert (GOLDEN / "valid.expected").read_text(encoding="utf-8") == ""
    invalid = [c for c in CASES if c.stem != "valid"]
    assert all(c.with_suffix(".expected").read_text(encoding="utf-8") for c in invalid)
