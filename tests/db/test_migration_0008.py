"""0008 adds strikes and appeals and marks reversals on actions; it goes down and up cleanly."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, inspect, text

from vigil.db.migrate import downgrade, upgrade

NOW = datetime(2026, 10, 1, tzinfo=UTC)


def test_down_to_0007_keeps_actions_and_up_again(engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO accounts (id, platform_account_id, account_type, status, first_seen_at)"
                " VALUES (1, 'a', 'private', 'active', :t)"
            ),
            {"t": NOW},
        )
        c.execute(
            text(
                "INSERT INTO actions (id, kind, account_id, category, automated, applied_at)"
                " VALUES (1, 'suspend_account', 1, 'spam', :f, :t)"
            ),
            {"t": NOW, "f": False},
        )
    downgrade(engine, "0008")  # later revisions may add tables of their own
    with engine.connect() as c:
        at_0008 = set(inspect(c).get_table_names())
    downgrade(engine, "0007")
    with engine.connect() as c:
        inspector = inspect(c)
        assert set(inspector.get_table_names()) == at_0008 - {"strikes", "appeals"}
        columns = {col["name"] for col in inspector.get_columns("actions")}
        assert "reversed_at" not in columns
        assert (
            c.execute(text("SELECT kind FROM actions WHERE id = 1")).scalar() == "suspend_account"
        )
    upgrade(engine)
    with engine.connect() as c:
        inspector = inspect(c)
        assert {"strikes", "appeals"} <= set(inspector.get_table_names())
        columns = {col["name"] for col in inspector.get_columns("actions")}
        assert {"reversed_at", "reversed_by_appeal_id"} <= columns
        fks = {fk["name"] for fk in inspector.get_foreign_keys("actions")}
        assert "fk_actions_reversed_by_appeal_id_appeals" in fks
        assert c.execute(text("SELECT reversed_at FROM actions WHERE id = 1")).scalar() is None
