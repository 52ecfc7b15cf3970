"""Staff members and their roles: who may approve what (a legal officer approves referrals)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base


class Role(enum.StrEnum):
    ADMIN = "admin"
    MODERATOR = "moderator"
    SENIOR_MODERATOR = "senior_moderator"
    CHILD_SAFETY_SPECIALIST = "child_safety_specialist"
    LEGAL_OFFICER = "legal_officer"
    AUDITOR = "auditor"
    PLATFORM_INTEGRATION = "platform_integration"


class StaffMember(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    roles: Mapped[list[Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    added_at: Mapped[datetime]
