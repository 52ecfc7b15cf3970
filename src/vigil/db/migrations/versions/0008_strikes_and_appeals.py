"""strikes and appeals

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

Hand-written. Two new tables, ``appeals`` and ``strikes``, and two nullable
columns on ``actions`` recording a reversal on appeal; existing actions were
never reversed, so they need no backfill.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("action_ids", sa.JSON(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("appellant_kind", sa.String(length=16), nullable=False),
        sa.Column("appellant", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("told_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assignee", sa.String(length=200), nullable=True),
        sa.Column("claim_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_appeals_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_appeals_decision_id_decisions")
        ),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_appeals_item_id_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
        sa.UniqueConstraint("subject", name=op.f("uq_appeals_subject")),
    )
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appeals_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_appeals_decision_id"), ["decision_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_appeals_deadline_at"), ["deadline_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_appeals_status"), ["status"], unique=False)

    op.create_table(
        "strikes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by_appeal_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_strikes_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["action_id"], ["actions.id"], name=op.f("fk_strikes_action_id_actions")
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_strikes_decision_id_decisions")
        ),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_strikes_item_id_items")),
        sa.ForeignKeyConstraint(
            ["removed_by_appeal_id"],
            ["appeals.id"],
            name=op.f("fk_strikes_removed_by_appeal_id_appeals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strikes")),
    )
    with op.batch_alter_table("strikes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_strikes_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_strikes_action_id"), ["action_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_strikes_decision_id"), ["decision_id"], unique=False)

    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reversed_by_appeal_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_actions_reversed_by_appeal_id_appeals"),
            "appeals",
            ["reversed_by_appeal_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_actions_reversed_by_appeal_id_appeals"), type_="foreignkey"
        )
        batch_op.drop_column("reversed_by_appeal_id")
        batch_op.drop_column("reversed_at")

    with op.batch_alter_table("strikes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_strikes_decision_id"))
        batch_op.drop_index(batch_op.f("ix_strikes_action_id"))
        batch_op.drop_index(batch_op.f("ix_strikes_account_id"))
    op.drop_table("strikes")

    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appeals_status"))
        batch_op.drop_index(batch_op.f("ix_appeals_deadline_at"))
        batch_op.drop_index(batch_op.f("ix_appeals_decision_id"))
        batch_op.drop_index(batch_op.f("ix_appeals_account_id"))
    op.drop_table("appeals")
