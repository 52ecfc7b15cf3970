"""0011 adds the platform tables and the (type, seq) index on events; down and up cleanly."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from vigil.db.migrate import current_revision, downgrade, upgrade

PLATFORM_TABLES = {
    "webhook_endpoints",
    "webhook_deliveries",
    "webhook_dead_letters",
    "platform_tokens",
}


def _schema(engine: Engine) -> tuple[set[str], set[str]]:
    with engine.connect() as c:
        inspector = inspect(c)
        tables = set(inspector.get_table_names())
        event_indexes = {str(i["name"]) for i in inspector.get_indexes("events")}
    return tables, event_indexes


def test_down_to_0010_and_up_again(engine: Engine) -> None:
    downgrade(engine, "0011")
    tables, indexes = _schema(engine)
    assert tables >= PLATFORM_TABLES
    assert "ix_events_type_seq" in indexes
    downgrade(engine, "0010")
    assert current_revision(engine) == "0010"
    assert _schema(engine) == (tables - PLATFORM_TABLES, indexes - {"ix_events_type_seq"})
    upgrade(engine, "0011")
    assert _schema(engine) == (tables, indexes)
    upgrade(engine)
