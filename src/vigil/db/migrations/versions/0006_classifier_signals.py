"""classifier signals: the model, its version and the score on each signal

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10

Hand-written. Three nullable columns on ``signals``; bank and notice signals
leave them empty, so existing rows need no backfill.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("model", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("model_version", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("score", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_column("score")
        batch_op.drop_column("model_version")
        batch_op.drop_column("model")
