"""statements of reasons: submissions to the transparency database

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

Placeholder reserved for issue 5; filled in by the change that adds these tables.
"""

from __future__ import annotations

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
