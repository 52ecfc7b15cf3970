"""requests from authorities: register, targets, productions

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01

Hand-written. Three new tables; verification and approvals are columns of the
request (their history is in the event log).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "authority_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=48), nullable=True),
        sa.Column("authority_name", sa.String(length=300), nullable=False),
        sa.Column("authority_country", sa.String(length=2), nullable=False),
        sa.Column("agency_type", sa.String(length=24), nullable=False),
        sa.Column("instrument", sa.String(length=48), nullable=True),
        sa.Column("data_categories", sa.JSON(), nullable=False),
        _ts("range_from"),
        _ts("range_to"),
        sa.Column("nondisclosure_basis", sa.String(length=48), nullable=True),
        _ts("nondisclosure_expires_at"),
        _ts("acknowledge_by"),
        _ts("comply_by"),
        sa.Column("preserve_days", sa.Integer(), nullable=True),
        sa.Column("received_by", sa.String(length=200), nullable=False),
        _ts("received_at", nullable=False),
        _ts("acknowledged_at"),
        _ts("verified_at"),
        sa.Column("verified_by", sa.String(length=200), nullable=True),
        sa.Column("verification_method", sa.String(length=48), nullable=True),
        sa.Column("verification_evidence", sa.String(length=500), nullable=True),
        sa.Column("good_faith_reason", sa.Text(), nullable=True),
        sa.Column("first_approver", sa.String(length=200), nullable=True),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        _ts("approved_at"),
        _ts("produced_at"),
        _ts("effect_given_at"),
        _ts("refused_at"),
        sa.Column("refusal_code", sa.String(length=48), nullable=True),
        _ts("user_notified_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authority_requests")),
    )
    op.create_index("ix_authority_requests_status", "authority_requests", ["status"])
    op.create_table(
        "authority_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("identifier_type", sa.String(length=24), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["authority_requests.id"]),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"]),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authority_targets")),
    )
    op.create_index("ix_authority_targets_request_id", "authority_targets", ["request_id"])
    op.create_index("ix_authority_targets_account_id", "authority_targets", ["account_id"])
    op.create_table(
        "authority_productions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("produced_by", sa.String(length=200), nullable=False),
        _ts("produced_at", nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("account_ids", sa.JSON(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("package_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["authority_requests.id"]),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authority_productions")),
    )
    op.create_index("ix_authority_productions_request_id", "authority_productions", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_authority_productions_request_id", table_name="authority_productions")
    op.drop_table("authority_productions")
    op.drop_index("ix_authority_targets_account_id", table_name="authority_targets")
    op.drop_index("ix_authority_targets_request_id", table_name="authority_targets")
    op.drop_table("authority_targets")
    op.drop_index("ix_authority_requests_status", table_name="authority_requests")
    op.drop_table("authority_requests")
