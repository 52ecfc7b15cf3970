"""Banks and their entries; every match points back at an entry's provenance."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base


class BankKind(enum.StrEnum):
    SHA256 = "sha256"
    MD5 = "md5"
    URL = "url"
    DOMAIN = "domain"
    TERM = "term"


class Bank(Base):
    __tablename__ = "banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class BankEntry(Base):
    __tablename__ = "bank_entries"
    __table_args__ = (UniqueConstraint("bank_id", "value", name="uq_bank_entries_bank_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"), index=True)
    value: Mapped[str] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[Any] | None] = mapped_column(JSON)
    added_at: Mapped[datetime]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
