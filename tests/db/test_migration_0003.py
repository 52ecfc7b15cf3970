"""0003 on a database that already holds entries and signals: nothing starts out quarantined."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

from vigil.db.migrate import downgrade, upgrade

ROWS = [
    "INSERT INTO banks (name, kind, category, source, enabled, created_at, rollout, negative, "
    "match_transforms) VALUES ('b', 'sha256', 'terrorism', 's', true, CURRENT_TIMESTAMP, 1.0, "
    "false, false)",
    "INSERT INTO bank_entries (bank_id, value, source, added_at, enabled) "
    "VALUES (1, 'ab', 's', CURRENT_TIMESTAMP, true)",
    "INSERT INTO accounts (platform_account_id, account_type, status, first_seen_at) "
    "VALUES ('a', 'private', 'active', CURRENT_TIMESTAMP)",
    "INSERT INTO items (platform_item_id, kind, account_id, created_at, ingested_at, status, "
    "scan_state, content_retained) VALUES ('i', 'post', 1, CURRENT_TIMESTAMP, "
    "CURRENT_TIMESTAMP, 'visible', 'scanned', true)",
    "INSERT INTO signals (item_id, kind, bank_id, bank_entry_id, matched, reason, created_at) "
    "VALUES (1, 'sha256', 1, 1, 'ab', 'r', CURRENT_TIMESTAMP)",
]


def test_upgrade_keeps_entries_and_signals_unquarantined(bare_engine: Engine) -> None:
    upgrade(bare_engine, "0002")
    with bare_engine.begin() as c:
        for statement in ROWS:
            c.execute(text(statement))
    upgrade(bare_engine)
    with bare_engine.begin() as c:
        assert c.execute(text("SELECT quarantined_at FROM bank_entries")).scalar_one() is None
        assert c.execute(text("SELECT quarantined FROM signals")).scalar_one() in (False, 0)
        for table in ("scan_counts", "entry_match_counts", "entry_quarantines"):
            assert c.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0  # noqa: S608
    downgrade(bare_engine, "0002")
    with bare_engine.connect() as c:
        tables = set(inspect(c).get_table_names())
        assert not {"scan_counts", "entry_match_counts", "entry_quarantines"} & tables
        assert "quarantined" not in {col["name"] for col in inspect(c).get_columns("signals")}
        assert c.execute(text("SELECT reason FROM signals")).scalar_one() == "r"
    upgrade(bare_engine)
