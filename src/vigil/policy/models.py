"""Policy versions as they were used, and the verdicts they produced."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base


class PolicyVersion(Base):
    """The exact text of every policy that ever produced a verdict."""

    __tablename__ = "policy_versions"
    __table_args__ = (UniqueConstraint("sha256", name="uq_policy_versions_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    activated_at: Mapped[datetime]


class Verdict(Base):
    __tablename__ = "verdicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    policy_version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id"))
    rule_id: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(64), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    review_required: Mapped[bool] = mapped_column(Boolean)
    deadline_at: Mapped[datetime | None]
    signal_ids: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
