"""Stored statements of reasons; ``body`` is the transparency-database submission as issued."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base


class StatementOfReasons(Base):
    __tablename__ = "statements_of_reasons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    puid: Mapped[str] = mapped_column(String(200), unique=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), unique=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    issued_at: Mapped[datetime]
