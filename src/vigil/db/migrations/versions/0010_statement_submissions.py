"""statements of reasons: submissions to the transparency database

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

Hand-written. Submission state on ``statements_of_reasons`` (existing rows start
as 'pending': nothing was submitted before this revision) and the registry of
issued PUIDs, filled with the PUIDs of the statements already stored.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("statements_of_reasons", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "submission_status",
                sa.String(length=16),
                server_default="pending",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("tdb_uuid", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rejected_fields", sa.JSON(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_statements_of_reasons_submission_status"),
            ["submission_status"],
            unique=False,
        )
    op.create_table(
        "statement_puids",
        sa.Column("puid", sa.String(length=200), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("puid", name=op.f("pk_statement_puids")),
    )
    op.execute(
        "INSERT INTO statement_puids (puid, issued_at) "
        "SELECT puid, issued_at FROM statements_of_reasons"
    )


def downgrade() -> None:
    op.drop_table("statement_puids")
    with op.batch_alter_table("statements_of_reasons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_statements_of_reasons_submission_status"))
        batch_op.drop_column("rejected_fields")
        batch_op.drop_column("submitted_at")
        batch_op.drop_column("tdb_uuid")
        batch_op.drop_column("submission_status")
