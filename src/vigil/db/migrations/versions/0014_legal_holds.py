"""legal holds, and erasure requests on accounts

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

Hand-written. A new table and two nullable columns on ``accounts``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("legal_basis", sa.String(length=500), nullable=False),
        sa.Column("placed_by", sa.String(length=200), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lapsed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_legal_holds_account_id", "legal_holds", ["account_id"])
    op.create_index("ix_legal_holds_item_id", "legal_holds", ["item_id"])
    op.create_index("ix_legal_holds_expires_at", "legal_holds", ["expires_at"])
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("erasure_requested_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
        batch_op.drop_column("erasure_requested_at")
    op.drop_index("ix_legal_holds_expires_at", table_name="legal_holds")
    op.drop_index("ix_legal_holds_item_id", table_name="legal_holds")
    op.drop_index("ix_legal_holds_account_id", table_name="legal_holds")
    op.drop_table("legal_holds")
