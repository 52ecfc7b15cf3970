"""media PDQ hashes (with quality and dihedral variants); index on items.text_sha256

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

PDQ hashes are kept like MD5 and SHA-256 when content is dropped, so banks
added later can still match an image (retroactive matching); the text digest
gets an index for the same reason. Existing media rows have no PDQ hash.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pdq", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("pdq_quality", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("pdq_variants", sa.JSON(), nullable=True))
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_items_text_sha256"), ["text_sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_items_text_sha256"))
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_column("pdq_variants")
        batch_op.drop_column("pdq_quality")
        batch_op.drop_column("pdq")
