"""bank settings (threshold, rollout, negative, transforms), entry provenance, signal distance

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Hand-written. Existing banks become positive, fully rolled-out banks; existing
entries take their bank's source. Server defaults exist only to fill existing
rows and are dropped afterwards, so the schema matches the models exactly.

On SQLite, batch mode rebuilds ``banks`` and ``bank_entries`` (copy, drop,
rename) while other rows reference them; ``vigil.db.migrate`` switches foreign
keys off for the run and checks every reference before committing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("banks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("threshold", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("rollout", sa.Float(), nullable=False, server_default=sa.text("1.0"))
        )
        batch_op.add_column(
            sa.Column("negative", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("match_transforms", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("banks", schema=None) as batch_op:
        batch_op.alter_column(
            "rollout", existing_type=sa.Float(), existing_nullable=False, server_default=None
        )
        batch_op.alter_column(
            "negative", existing_type=sa.Boolean(), existing_nullable=False, server_default=None
        )
        batch_op.alter_column(
            "match_transforms",
            existing_type=sa.Boolean(),
            existing_nullable=False,
            server_default=None,
        )
        batch_op.create_check_constraint(
            op.f("ck_banks_rollout_range"), "rollout >= 0 AND rollout <= 1"
        )
        batch_op.create_check_constraint(
            op.f("ck_banks_threshold_range"),
            "threshold IS NULL OR (threshold >= 0 AND threshold <= 256)",
        )

    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("disabled_reason", sa.Text(), nullable=True))
    op.execute(
        "UPDATE bank_entries SET source = "
        "(SELECT banks.source FROM banks WHERE banks.id = bank_entries.bank_id)"
    )
    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.alter_column(
            "source", existing_type=sa.String(length=200), existing_nullable=True, nullable=False
        )

    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entry_source", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("distance", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_column("distance")
        batch_op.drop_column("entry_source")

    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.drop_column("disabled_reason")
        batch_op.drop_column("disabled_at")
        batch_op.drop_column("source")

    with op.batch_alter_table("banks", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_banks_threshold_range"), type_="check")
        batch_op.drop_constraint(op.f("ck_banks_rollout_range"), type_="check")
        batch_op.drop_column("match_transforms")
        batch_op.drop_column("negative")
        batch_op.drop_column("rollout")
        batch_op.drop_column("threshold")
