"""Fixtures for migration tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.support import postgres
from vigil.db import make_engine


@pytest.fixture(params=["sqlite", "postgresql"])
def bare_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database with no schema at all, on each backend."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'bare.db'}")
        yield engine
        engine.dispose()
        return
    admin: str = request.getfixturevalue("pg_admin_url")
    name = f"vigil_bare_{uuid.uuid4().hex[:12]}"
    postgres.create_database(admin, name)
    engine = make_engine(postgres.with_database(admin, name))
    yield engine
    engine.dispose()
    postgres.drop_database(admin, name)
