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
    # A violating decision waits for a second reviewer (four-eyes); nothing is applied yet.
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    CLOSED = "closed"


class Outcome(enum.StrEnum):
    VIOLATING = "violating"
    NOT_VIOLATING = "not_violating"
    ESCALATE = "escalate"


class DecisionStatus(enum.StrEnum):
    FINAL = "final"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    REFUSED = "refused"


class RefusalReason(enum.StrEnum):
    """Why a second reviewer sends a four-eyes decision back: a code, never free text."""

    WRONG_CLAUSE = "wrong_clause"
    WRONG_ACTIONS = "wrong_actions"
    NOT_VIOLATING = "not_violating"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"
    OTHER = "other"


# Claimed cases are held by ``assignee`` until ``claim_expires_at`` (never, when NULL:
# an assignment by a lead holds until released or decided).
PRIORITY_TRUSTED_FLAGGER = 0
PRIORITY_DEFAULT = 1


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
    status: Mapped[str] = mapped_column(String(24), default=CaseStatus.OPEN.value, index=True)
    opened_at: Mapped[datetime]
    deadline_at: Mapped[datetime | None] = mapped_column(index=True)
    closed_at: Mapped[datetime | None]
    assignee: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    claim_expires_at: Mapped[datetime | None]
    priority: Mapped[int] = mapped_column(
        Integer, default=PRIORITY_DEFAULT, server_default=text(str(PRIORITY_DEFAULT))
    )
    deadline_missed_at: Mapped[datetime | None]


class Decision(Base):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(16))
    clause: Mapped[str | None] = mapped_column(String(200))
    actions: Mapped[list[Any]] = mapped_column(JSON)
    # Internal: for reviewers only, never shown to the affected user.
    note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(
        String(24), default=DecisionStatus.FINAL.value, server_default=DecisionStatus.FINAL.value
    )
    confirmed_by: Mapped[str | None] = mapped_column(String(200))
    confirmed_at: Mapped[datetime | None]
    # What the affected user is told; never mixed with ``note``.
    user_message: Mapped[str | None] = mapped_column(Text)
    # Account actions added by strike escalation, applied after ``actions``.
    escalation: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    refused_by: Mapped[str | None] = mapped_column(String(200))
    refused_at: Mapped[datetime | None]
    refusal_reason: Mapped[str | None] = mapped_column(String(32))
    # The second reviewer's internal note on a refusal.
    refusal_note: Mapped[str | None] = mapped_column(Text)
