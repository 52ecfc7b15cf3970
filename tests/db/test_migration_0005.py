"""0005 adds the rescan jobs table and nothing else; it goes down and up again cleanly."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from vigil.db.migrate import current_revision, downgrade, upgrade


def test_down_to_0004_and_up_again(engine: Engine) -> None:
    # Compare with the schema at 0005, so later revisions' tables do not count.
    downgrade(engine, "0005")
    with engine.connect() as c:
        head = set(inspect(c).get_table_names())
    downgrade(engine, "0005")  # later revisions add tables of their own
    with engine.connect() as c:
        before = set(inspect(c).get_table_names())
    assert "rescans" in before
    downgrade(engine, "0004")
    assert current_revision(engine) == "0004"
    with engine.connect() as c:
        assert set(inspect(c).get_table_names()) == before - {"rescans"}
    upgrade(engine, "0005")
    with engine.connect() as c:
        inspector = inspect(c)
        assert set(inspector.get_table_names()) == head
        indexes = {i["name"] for i in inspector.get_indexes("rescans")}
    assert indexes == {"ix_rescans_bank_id", "ix_rescans_status"}
    upgrade(engine)
