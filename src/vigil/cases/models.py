"""Cases and decisions. ``Case.status`` is a projection kept equal to ``reducer.case_status``."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    ESCALATED = "escalated"
    CLOSED = "closed"


class Outcome(enum.StrEnum):
    VIOLATING = "violating"
    NOT_VIOLATING = "not_violating"
    ESCALATE = "escalate"


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # At most one case per item that is not closed.
        Index(
            "uq_cases_one_open_per_item",
            "item_id",
            unique=True,
            sqlite_where=text("status != 'closed'"),
            postgresql_where=text("status != 'closed'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    verdict_id: Mapped[int] = mapped_column(ForeignKey("verdicts.id"))
    category: Mapped[str] = mapped_column(String(64), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    proposed_action: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.OPEN.value, index=True)
    opened_at: Mapped[datetime]
    deadline_at: Mapped[datetime | None] = mapped_column(index=True)
    closed_at: Mapped[datetime | None]


class Decision(Base):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(16))
    clause: Mapped[str | None] = mapped_column(String(200))
    actions: Mapped[list[Any]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime]
