"""Fixtures for the statement tests: the reference-schema checker and a fake transparency database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.statements.fake_tdb import FakeTransparencyDatabase, running
from tests.statements.sor_checker import SchemaChecker


@pytest.fixture(scope="session")
def sor_checker(shared_dir: Path) -> SchemaChecker:
    schema = json.loads((shared_dir / "reference" / "dsa_sor_schema.json").read_text("utf-8"))
    checker = SchemaChecker(schema)
    assert checker.not_understood == []
    return checker


@pytest.fixture
def tdb(sor_checker: SchemaChecker) -> Iterator[FakeTransparencyDatabase]:
    with running(sor_checker) as fake:
        yield fake
