"""rescan jobs: new bank entries matched against items stored before them

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08

Hand-written. A new table only; nothing existing changes. Entries added
before this revision get no job: run ``vigil bank rescan`` after re-importing
or re-enabling them if earlier items should be matched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rescans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("first_entry_id", sa.Integer(), nullable=False),
        sa.Column("last_entry_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=24), nullable=False),
        sa.Column("upto_item_id", sa.Integer(), nullable=False),
        sa.Column("cursor_item_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("items_scanned", sa.Integer(), nullable=False),
        sa.Column("signals", sa.Integer(), nullable=False),
        sa.Column("suppressed", sa.Integer(), nullable=False),
        sa.Column("verdicts", sa.Integer(), nullable=False),
        sa.Column("cases_opened", sa.Integer(), nullable=False),
        sa.Column("actions", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["bank_id"], ["banks.id"], name=op.f("fk_rescans_bank_id_banks")),
        sa.ForeignKeyConstraint(
            ["first_entry_id"],
            ["bank_entries.id"],
            name=op.f("fk_rescans_first_entry_id_bank_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["last_entry_id"],
            ["bank_entries.id"],
            name=op.f("fk_rescans_last_entry_id_bank_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rescans")),
    )
    with op.batch_alter_table("rescans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rescans_bank_id"), ["bank_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rescans_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rescans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rescans_status"))
        batch_op.drop_index(batch_op.f("ix_rescans_bank_id"))
    op.drop_table("rescans")
