"""Match counts per time bucket, and the quarantines they led to.

Counts are operational data, not evidence: they hold ids and numbers only and
are pruned once they fall outside the window plus the baseline. Quarantines
are kept, so a person can see every time an entry was held back and why.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base


class ScanCount(Base):
    """How many items live ingest scanned in one bucket: the denominator of every rate."""

    __tablename__ = "scan_counts"

    bucket: Mapped[datetime] = mapped_column(primary_key=True)
    items: Mapped[int] = mapped_column(Integer)


class EntryMatchCount(Base):
    """How many of those items one bank entry matched (each item once)."""

    __tablename__ = "entry_match_counts"

    bank_entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id"), primary_key=True)
    bucket: Mapped[datetime] = mapped_column(primary_key=True, index=True)
    matches: Mapped[int] = mapped_column(Integer)


class Quarantine(Base):
    """One time an entry was held back: the numbers that tripped it and how it ended."""

    __tablename__ = "entry_quarantines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id"), index=True)
    quarantined_at: Mapped[datetime]
    # Written by Vigil from the numbers below; never operator text.
    reason: Mapped[str] = mapped_column(Text)
    window_matches: Mapped[int] = mapped_column(Integer)
    window_items: Mapped[int] = mapped_column(Integer)
    window_rate: Mapped[float] = mapped_column(Float)
    baseline_rate: Mapped[float] = mapped_column(Float)
    factor: Mapped[float] = mapped_column(Float)
    # Items the entry matched while quarantined: signals that could not act alone.
    held_matches: Mapped[int] = mapped_column(Integer, default=0)
    released_at: Mapped[datetime | None]
    release_reason: Mapped[str | None] = mapped_column(Text)
