"""Stored statements of reasons; ``body`` is the transparency-database submission as issued.

The submission columns are a projection of the ``statement.*`` events (see
:mod:`vigil.statements.reducer`). :class:`IssuedPuid` remembers every PUID ever
handed out, with no foreign key, so a PUID outlives its statement and is never
issued again.
"""

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
    # 'pending' | 'submitted' | 'rejected', as the reducer derives it from the events.
    submission_status: Mapped[str] = mapped_column(
        String(16), default="pending", server_default="pending", index=True
    )
    tdb_uuid: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None]
    rejected_fields: Mapped[list[Any] | None] = mapped_column(JSON)


class IssuedPuid(Base):
    """Every platform unique identifier handed out; rows are never deleted."""

    __tablename__ = "statement_puids"

    puid: Mapped[str] = mapped_column(String(200), primary_key=True)
    issued_at: Mapped[datetime]
