"""An applied enforcement action, by automation or by a person's decision.

An action reversed on appeal keeps its row: ``reversed_at`` and the appeal
that reversed it are set, so the history of what was done stays whole. A
suspension or restriction that runs out is lifted by ``lapse_expired`` and keeps
its row too, with ``lapsed_at``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base


class Action(Base):
    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    category: Mapped[str] = mapped_column(String(64))
    verdict_id: Mapped[int | None] = mapped_column(ForeignKey("verdicts.id"))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    automated: Mapped[bool]
    applied_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    reversed_at: Mapped[datetime | None]
    reversed_by_appeal_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id"))
    # When a time-limited action (suspension, account restriction) ran out and was lifted.
    lapsed_at: Mapped[datetime | None]
