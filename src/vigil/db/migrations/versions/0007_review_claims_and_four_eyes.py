"""review: claims, deadlines missed, four-eyes confirmations, decision messages

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Hand-written. ``cases`` gains who holds a case and until when, its queue
priority and when its deadline was missed; ``cases.status`` widens to hold
``awaiting_confirmation``. ``decisions`` gains its four-eyes status, the second
reviewer's answer, the message for the affected user and the strike escalation.
Existing rows get priority 1 and status ``final`` with no escalation; the
partial unique index on open cases is rebuilt around the widened column.
Going down puts cases awaiting confirmation back to ``open``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_NOT_CLOSED = "status != 'closed'"


def _one_open_case_per_item() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(
            "uq_cases_one_open_per_item",
            ["item_id"],
            unique=True,
            sqlite_where=sa.text(_NOT_CLOSED),
            postgresql_where=sa.text(_NOT_CLOSED),
        )


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("uq_cases_one_open_per_item")
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=16),
            type_=sa.String(length=24),
            existing_nullable=False,
        )
        batch_op.add_column(sa.Column("assignee", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("claim_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("priority", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("deadline_missed_at", sa.DateTime(timezone=True), nullable=True)
        )
    _one_open_case_per_item()
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=24), server_default="final", nullable=False)
        )
        batch_op.add_column(sa.Column("confirmed_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("user_message", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("escalation", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("refused_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("refused_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("refusal_reason", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("refusal_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        for name in (
            "refusal_note",
            "refusal_reason",
            "refused_at",
            "refused_by",
            "escalation",
            "user_message",
            "confirmed_at",
            "confirmed_by",
            "status",
        ):
            batch_op.drop_column(name)
    # The old schema has no room for a decision waiting on a second reviewer: back in the queue.
    op.execute("UPDATE cases SET status = 'open' WHERE status = 'awaiting_confirmation'")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("uq_cases_one_open_per_item")
        for name in (
            "deadline_missed_at",
            "priority",
            "claim_expires_at",
            "claimed_at",
            "assignee",
        ):
            batch_op.drop_column(name)
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=24),
            type_=sa.String(length=16),
            existing_nullable=False,
        )
    _one_open_case_per_item()
