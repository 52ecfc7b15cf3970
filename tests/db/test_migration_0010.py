"""0010 on a database that already holds statements: they start pending and their PUIDs are recorded."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

from vigil.db.migrate import downgrade, upgrade

ROWS = [
    "INSERT INTO accounts (platform_account_id, account_type, status, first_seen_at) "
    "VALUES ('a', 'private', 'active', CURRENT_TIMESTAMP)",
    "INSERT INTO actions (kind, account_id, category, automated, applied_at) "
    "VALUES ('suspend_account', 1, 'hate', false, CURRENT_TIMESTAMP)",
    "INSERT INTO statements_of_reasons (puid, action_id, account_id, body, issued_at) "
    "VALUES ('vigil-old-1', 1, 1, '{\"puid\": \"vigil-old-1\"}', CURRENT_TIMESTAMP)",
]


def test_existing_statements_start_pending_with_their_puids_recorded(bare_engine: Engine) -> None:
    upgrade(bare_engine, "0009")
    with bare_engine.begin() as c:
        for statement in ROWS:
            c.execute(text(statement))
    upgrade(bare_engine)
    with bare_engine.begin() as c:
        row = c.execute(
            text("SELECT submission_status, tdb_uuid, submitted_at FROM statements_of_reasons")
        ).one()
        assert tuple(row) == ("pending", None, None)
        assert c.execute(text("SELECT puid FROM statement_puids")).scalars().all() == [
            "vigil-old-1"
        ]
    downgrade(bare_engine, "0009")
    with bare_engine.connect() as c:
        assert "statement_puids" not in inspect(c).get_table_names()
        columns = {col["name"] for col in inspect(c).get_columns("statements_of_reasons")}
        assert not {"submission_status", "tdb_uuid", "submitted_at", "rejected_fields"} & columns
        assert (
            c.execute(text("SELECT puid FROM statements_of_reasons")).scalar_one() == "vigil-old-1"
        )
    upgrade(bare_engine)
