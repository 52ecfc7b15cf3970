"""The fallback used when no PostgreSQL is reachable: a throwaway cluster, migrated, then stopped."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy import inspect, select

from tests.support.postgres import DEFAULT_LOCAL_URL, can_connect, find_bindir, start_throwaway
from vigil.audit.models import ChainHead
from vigil.db import make_engine, upgrade
from vigil.db.migrate import current_revision, head_revision

pytestmark = pytest.mark.slow


def test_throwaway_server_starts_migrates_and_stops() -> None:
    bindir = find_bindir()
    if bindir is None:
        pytest.fail("no initdb/pg_ctl found: the throwaway-server fallback cannot work here")
    assert (bindir / "initdb").exists()
    assert (bindir / "pg_ctl").exists()
    server = start_throwaway(bindir)
    root = server.datadir.parent
    try:
        assert server.url != DEFAULT_LOCAL_URL
        assert (server.datadir / "PG_VERSION").exists()
        with psycopg.connect(server.url, connect_timeout=5) as conn:
            row = conn.execute("SHOW data_directory").fetchone()
            assert row is not None
            assert Path(row[0]).resolve() == server.datadir.resolve()
            port = conn.execute("SHOW port").fetchone()
            assert port is not None
            assert int(port[0]) == server.port

        engine = make_engine(server.url)
        try:
            assert current_revision(engine) is None
            upgrade(engine)
            assert current_revision(engine) == head_revision()
            tables = set(inspect(engine).get_table_names())
            assert {"items", "events", "event_chain_head", "banks", "cases"} <= tables
            with engine.connect() as conn:
                head = conn.execute(select(ChainHead.seq)).scalar_one()
            assert head == 0
        finally:
            engine.dispose()
    finally:
        server.stop()
    assert not can_connect(server.url)
    assert not root.exists()
