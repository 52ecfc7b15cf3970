"""requests from authorities: register, targets, verification, approvals, productions

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01

Placeholder reserved for issue 6; filled in by the change that adds these tables.
"""

from __future__ import annotations

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
