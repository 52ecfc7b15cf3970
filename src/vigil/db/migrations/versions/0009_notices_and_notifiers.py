"""notices: acknowledgements, outcomes and notifier standing

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Placeholder reserved for issue 5; filled in by the change that adds these tables.
"""

from __future__ import annotations

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
