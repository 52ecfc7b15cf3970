"""A strike: one upheld violation weighing on an account until it expires or is removed on appeal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base


class Strike(Base):
    __tablename__ = "strikes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    category: Mapped[str] = mapped_column(String(64))
    weight: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"), index=True)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"), index=True)
    removed_at: Mapped[datetime | None]
    removed_by_appeal_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id"))
