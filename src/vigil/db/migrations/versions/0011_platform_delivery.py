"""platform integration: outbox, webhooks and pull tokens

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

Placeholder reserved for issue 5; filled in by the change that adds these tables.
"""

from __future__ import annotations

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
