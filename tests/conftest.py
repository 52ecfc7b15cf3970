"""Shared fixtures: a migrated database on SQLite and on PostgreSQL for every store test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.support import postgres
from vigil.db import make_engine, upgrade

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"../shared not found at {SHARED}; tests read reference data from it")
    return SHARED


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    try:
        url, server = postgres.resolve_server()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield url
    if server is not None:
        server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str) -> Iterator[str]:
    """A migrated template database, copied for each test (fast, isolated)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"vigil_tmpl_{worker}_{uuid.uuid4().hex[:8]}"
    postgres.create_database(pg_admin_url, name)
    engine = make_engine(postgres.with_database(pg_admin_url, name))
    upgrade(engine)
    engine.dispose()
    yield name
    postgres.drop_database(pg_admin_url, name)


@pytest.fixture
def pg_url(pg_admin_url: str, pg_template: str) -> Iterator[str]:
    name = f"vigil_t_{uuid.uuid4().hex[:12]}"
    postgres.create_database(pg_admin_url, name, template=pg_template)
    yield postgres.with_database(pg_admin_url, name)
    postgres.drop_database(pg_admin_url, name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'vigil.db'}"


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database URL: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'vigil.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        return url
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()
