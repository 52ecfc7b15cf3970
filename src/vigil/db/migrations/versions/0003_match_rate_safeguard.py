"""match-rate safeguard: scan and match counts per bucket, entry quarantines

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08

Hand-written. No entry starts out quarantined and no existing signal was
raised under quarantine. The server default on ``signals.quarantined`` exists
only to fill existing rows and is dropped afterwards, so the schema matches
the models exactly. Counting starts with the first batch ingested after the
upgrade; until then every entry is judged by the policy's prior rate.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scan_counts",
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_scan_counts")),
    )
    op.create_table(
        "entry_match_counts",
        sa.Column("bank_entry_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_entry_id"],
            ["bank_entries.id"],
            name=op.f("fk_entry_match_counts_bank_entry_id_bank_entries"),
        ),
        sa.PrimaryKeyConstraint("bank_entry_id", "bucket", name=op.f("pk_entry_match_counts")),
    )
    with op.batch_alter_table("entry_match_counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entry_match_counts_bucket"), ["bucket"], unique=False)
    op.create_table(
        "entry_quarantines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank_entry_id", sa.Integer(), nullable=False),
        sa.Column("quarantined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("window_matches", sa.Integer(), nullable=False),
        sa.Column("window_items", sa.Integer(), nullable=False),
        sa.Column("window_rate", sa.Float(), nullable=False),
        sa.Column("baseline_rate", sa.Float(), nullable=False),
        sa.Column("factor", sa.Float(), nullable=False),
        sa.Column("held_matches", sa.Integer(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bank_entry_id"],
            ["bank_entries.id"],
            name=op.f("fk_entry_quarantines_bank_entry_id_bank_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_quarantines")),
    )
    with op.batch_alter_table("entry_quarantines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_entry_quarantines_bank_entry_id"), ["bank_entry_id"], unique=False
        )

    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quarantined_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("quarantined", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.alter_column(
            "quarantined", existing_type=sa.Boolean(), existing_nullable=False, server_default=None
        )


def downgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_column("quarantined")

    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.drop_column("quarantined_at")

    with op.batch_alter_table("entry_quarantines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entry_quarantines_bank_entry_id"))
    op.drop_table("entry_quarantines")
    with op.batch_alter_table("entry_match_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entry_match_counts_bucket"))
    op.drop_table("entry_match_counts")
    op.drop_table("scan_counts")
