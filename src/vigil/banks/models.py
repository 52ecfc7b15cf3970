"""Banks and their entries; every match points back at an entry's provenance."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base


class BankKind(enum.StrEnum):
    SHA256 = "sha256"
    MD5 = "md5"
    URL = "url"
    DOMAIN = "domain"
    TERM = "term"
    PDQ = "pdq"  # perceptual image hash, matched within a Hamming distance
    TEXT = "text"  # SHA-256 of the normalised text: exact copies of known text
    REGEX = "regex"  # regular expressions over the normalised text


# PDQ's reference "confident match" distance; lower is stricter.
DEFAULT_PDQ_THRESHOLD = 31
PDQ_BITS = 256


class Bank(Base):
    __tablename__ = "banks"
    __table_args__ = (
        CheckConstraint("rollout >= 0 AND rollout <= 1", name="rollout_range"),
        CheckConstraint(
            "threshold IS NULL OR (threshold >= 0 AND threshold <= 256)", name="threshold_range"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    # PDQ banks only: the largest Hamming distance that still counts as a match.
    threshold: Mapped[int | None] = mapped_column(Integer)
    # Share of items (chosen from the item id) matched against this bank: staged roll-outs.
    rollout: Mapped[float] = mapped_column(Float, default=1.0)
    # Known-benign content: a match suppresses positive matches of the same kind on it.
    negative: Mapped[bool] = mapped_column(Boolean, default=False)
    # PDQ banks only: also match rotated and mirrored copies.
    match_transforms: Mapped[bool] = mapped_column(Boolean, default=False)


def _bank_source(context: DefaultExecutionContext) -> str | None:
    """An entry's source defaults to its bank's at the time it is added."""
    bank_id = context.get_current_parameters()["bank_id"]  # type: ignore[no-untyped-call]
    source: str | None = context.connection.scalar(select(Bank.source).where(Bank.id == bank_id))
    return source


class BankEntry(Base):
    __tablename__ = "bank_entries"
    __table_args__ = (UniqueConstraint("bank_id", "value", name="uq_bank_entries_bank_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"), index=True)
    value: Mapped[str] = mapped_column(Text)
    # Where this entry came from; the bank's source unless the import said otherwise.
    source: Mapped[str] = mapped_column(String(200), default=_bank_source)
    external_id: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[Any] | None] = mapped_column(JSON)
    added_at: Mapped[datetime]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Entries are withdrawn, never deleted, so old signals keep pointing at them.
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # Set while the match-rate safeguard holds the entry back (see vigil.safeguards):
    # its matches still raise signals, but they never act without a person.
    quarantined_at: Mapped[datetime | None]
