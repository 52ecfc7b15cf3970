"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import vigil.models  # noqa: F401
from vigil.audit.canonical import GENESIS_HASH
from vigil.audit.models import ChainHead
from vigil.db.base import Base
from vigil.db.migrate import current_revision, head_revision


def test_migrated_schema_matches_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_database_is_at_head_with_an_empty_chain(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    with Session(engine) as s:
        head = s.execute(select(ChainHead.seq, ChainHead.hash)).one()
    assert (head.seq, head.hash) == (0, GENESIS_HASH)
