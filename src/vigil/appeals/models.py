"""An appeal against a decision or an automated action.

``Appeal.status`` is a projection kept equal to ``reducer.appeal_status``. The
appellant's reason and the answer are kept here only, never in an event.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base


class AppealStatus(enum.StrEnum):
    OPEN = "open"
    UPHELD = "upheld"  # the original decision stands
    REVERSED = "reversed"  # the original decision was undone


class AppealOutcome(enum.StrEnum):
    UPHELD = "upheld"
    REVERSED = "reversed"


class AppellantKind(enum.StrEnum):
    AFFECTED_USER = "affected_user"  # the author whose content or account was acted on
    NOTIFIER = "notifier"  # who filed a notice that led to no action


class Appeal(Base):
    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # 'decision:<id>' or 'action:<id>': one appeal per decision, or per automated action.
    subject: Mapped[str] = mapped_column(String(64), unique=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"), index=True)
    action_ids: Mapped[list[Any]] = mapped_column(JSON)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    appellant_kind: Mapped[str] = mapped_column(String(16))
    appellant: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    filed_at: Mapped[datetime]
    told_at: Mapped[datetime]
    deadline_at: Mapped[datetime] = mapped_column(index=True)
    assignee: Mapped[str | None] = mapped_column(String(200))
    claim_expires_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=AppealStatus.OPEN.value, index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(Text)
