"""A signal records what matched, in which bank and entry, and why."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base


class Signal(Base):
    __tablename__ = "signals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("banks.id"))
    bank_entry_id: Mapped[int | None] = mapped_column(ForeignKey("bank_entries.id"))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))
    category: Mapped[str | None] = mapped_column(String(64))
    matched: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    # The entry's source at match time (provenance survives later edits of the bank).
    entry_source: Mapped[str | None] = mapped_column(String(200))
    # PDQ only: Hamming distance between the item's hash and the entry.
    distance: Mapped[int | None] = mapped_column(Integer)
    # Raised by an entry under match-rate quarantine: evidence for review, never for acting alone.
    quarantined: Mapped[bool] = mapped_column(Boolean, default=False)
    # Classifier signals: the model's name and version, and its score (the label is in matched).
    model: Mapped[str | None] = mapped_column(String(64))
    model_version: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float | None] = mapped_column(Float)
