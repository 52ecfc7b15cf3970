"""0002 on a database that already holds banks: existing rows are kept and filled in."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect, text

from vigil.db.migrate import downgrade, upgrade


def test_upgrade_fills_in_existing_banks_and_entries(bare_engine: Engine) -> None:
    upgrade(bare_engine, "0001")
    with bare_engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO banks (name, kind, category, source, enabled, created_at) "
                "VALUES ('gifct', 'sha256', 'terrorism', 'GIFCT', true, CURRENT_TIMESTAMP)"
            )
        )
        c.execute(
            text(
                "INSERT INTO bank_entries (bank_id, value, added_at, enabled) "
                "VALUES (1, :v, CURRENT_TIMESTAMP, true)"
            ),
            {"v": "ab" * 32},
        )
    upgrade(bare_engine)
    with bare_engine.begin() as c:
        bank = c.execute(
            text("SELECT threshold, rollout, negative, match_transforms FROM banks")
        ).one()
        entry = c.execute(
            text("SELECT source, disabled_at, disabled_reason FROM bank_entries")
        ).one()
    assert (bank.threshold, bank.rollout, bool(bank.negative), bool(bank.match_transforms)) == (
        None,
        1.0,
        False,
        False,
    )
    assert tuple(entry) == ("GIFCT", None, None)
    if bare_engine.dialect.name == "sqlite":
        with bare_engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_rollout_outside_zero_to_one_is_refused_by_the_database(bare_engine: Engine) -> None:
    upgrade(bare_engine)
    with pytest.raises(Exception, match=r"(?i)check"), bare_engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO banks (name, kind, category, source, enabled, created_at, rollout, "
                "negative, match_transforms) VALUES ('b', 'pdq', 'terrorism', 's', true, "
                "CURRENT_TIMESTAMP, 1.5, false, false)"
            )
        )


def test_downgrade_to_0001_keeps_the_rows(bare_engine: Engine) -> None:
    upgrade(bare_engine)
    with bare_engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO banks (name, kind, category, source, enabled, created_at, rollout, "
                "negative, match_transforms) VALUES ('b', 'md5', 'spam', 's', true, "
                "CURRENT_TIMESTAMP, 1.0, false, false)"
            )
        )
    downgrade(bare_engine, "0001")
    with bare_engine.connect() as c:
        assert "rollout" not in {col["name"] for col in inspect(c).get_columns("banks")}
        assert c.execute(text("SELECT name FROM banks")).scalar() == "b"
    upgrade(bare_engine)
