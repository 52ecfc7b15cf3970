"""actions: lapsed_at, when a suspension or account restriction ran out and was lifted

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

Hand-written. One nullable column; actions that ended before this migration are
lifted by the next ``vigil account sweep``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lapsed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_column("lapsed_at")
