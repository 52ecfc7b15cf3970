"""notices: acknowledgements, outcomes and notifier standing

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Hand-written. Four nullable columns and an index on ``notices`` (DSA Art. 16(4)
acknowledgement, Art. 16(5) outcome and the decision it came from), and the
``notifiers`` projection (Art. 23 standing). Notices stored before this revision
keep ``acknowledged_at`` empty: they were never acknowledged, and the column
does not pretend otherwise. Their notifiers get a row when next seen.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("decision_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_notices_decision_id_decisions"), "decisions", ["decision_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_notices_reporter"), ["reporter"], unique=False)

    op.create_table(
        "notifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notifier", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("warned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("limited_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("per_day", sa.Integer(), nullable=True),
        sa.Column("notices", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("founded", sa.Integer(), nullable=False),
        sa.Column("unfounded", sa.Integer(), nullable=False),
        sa.Column("window_decided", sa.Integer(), nullable=False),
        sa.Column("window_unfounded", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifiers")),
        sa.UniqueConstraint("notifier", name=op.f("uq_notifiers_notifier")),
    )
    with op.batch_alter_table("notifiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifiers_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_notifiers_limited_until"), ["limited_until"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notifiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifiers_limited_until"))
        batch_op.drop_index(batch_op.f("ix_notifiers_status"))
    op.drop_table("notifiers")
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notices_reporter"))
        batch_op.drop_constraint(batch_op.f("fk_notices_decision_id_decisions"), type_="foreignkey")
        batch_op.drop_column("decision_id")
        batch_op.drop_column("outcome_at")
        batch_op.drop_column("outcome")
        batch_op.drop_column("acknowledged_at")
