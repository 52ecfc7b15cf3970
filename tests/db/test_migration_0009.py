"""0009 adds notice acknowledgement/outcome columns and the notifiers table; notices survive it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session

from vigil.db.migrate import current_revision, downgrade, upgrade
from vigil.items.models import Account, Item, Notice

AT = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
ADDED = {"acknowledged_at", "outcome", "outcome_at", "decision_id"}


def _notice_columns(engine: Engine) -> set[str]:
    with engine.connect() as c:
        return {col["name"] for col in inspect(c).get_columns("notices")}


def test_down_to_0008_and_up_again_keeps_notices(engine: Engine) -> None:
    with Session(engine) as s:
        account = Account(platform_account_id="a1", first_seen_at=AT)
        s.add(account)
        s.flush()
        item = Item(
            platform_item_id="p1", kind="post", account_id=account.id, created_at=AT, ingested_at=AT
        )
        s.add(item)
        s.flush()
        s.add(
            Notice(
                platform_notice_id="n1",
                item_id=item.id,
                reporter="alice",
                reporter_type="user",
                category="spam",
                received_at=AT,
                acknowledged_at=AT,
            )
        )
        s.commit()
    # Later revisions may add tables of their own: compare against 0009 itself.
    downgrade(engine, "0009")
    with engine.connect() as c:
        at_0009 = set(inspect(c).get_table_names())
    assert "notifiers" in at_0009
    assert _notice_columns(engine) >= ADDED

    downgrade(engine, "0008")
    assert current_revision(engine) == "0008"
    with engine.connect() as c:
        inspector = inspect(c)
        assert set(inspector.get_table_names()) == at_0009 - {"notifiers"}
        assert "ix_notices_reporter" not in {i["name"] for i in inspector.get_indexes("notices")}
    assert not ADDED & _notice_columns(engine)

    upgrade(engine, "0009")
    with engine.connect() as c:
        inspector = inspect(c)
        assert set(inspector.get_table_names()) == at_0009
        assert "ix_notices_reporter" in {i["name"] for i in inspector.get_indexes("notices")}
        fks = {fk["name"]: fk["referred_table"] for fk in inspector.get_foreign_keys("notices")}
        assert fks.get("fk_notices_decision_id_decisions") == "decisions"
        assert {"ix_notifiers_status", "ix_notifiers_limited_until"} <= {
            i["name"] for i in inspector.get_indexes("notifiers")
        }
        row = c.execute(
            text("SELECT platform_notice_id, reporter, acknowledged_at, outcome FROM notices")
        ).one()
    # The notice survived; its acknowledgement did not: it was dropped with the column.
    assert tuple(row) == ("n1", "alice", None, None)
    upgrade(engine)
