"""A rescan job: one bank's new entries matched against the items stored before them.

The row is the job's whole state. ``cursor_item_id`` moves in the same
transaction as the signals, verdicts, cases and actions of the items up to it,
so a job that stops half-way resumes after the last item it committed.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base


class RescanStatus(enum.StrEnum):
    PENDING = "pending"  # queued; nothing scanned yet
    RUNNING = "running"  # started; a run is at work or was interrupted
    FINISHED = "finished"


class RescanTrigger(enum.StrEnum):
    IMPORT = "import"
    ENTRY_ENABLED = "entry_enabled"


class Rescan(Base):
    __tablename__ = "rescans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"), index=True)
    # The bank's entries with ids in [first_entry_id, last_entry_id] are the ones to match.
    first_entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id"))
    last_entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id"))
    trigger: Mapped[str] = mapped_column(String(24))
    # Boundary: the largest item id when the job was queued. Later items are scanned live.
    upto_item_id: Mapped[int] = mapped_column(Integer)
    # Every item with an id up to here has been matched and its outcome committed.
    cursor_item_id: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=RescanStatus.PENDING.value, index=True)
    items_scanned: Mapped[int] = mapped_column(Integer, default=0)
    signals: Mapped[int] = mapped_column(Integer, default=0)
    suppressed: Mapped[int] = mapped_column(Integer, default=0)
    verdicts: Mapped[int] = mapped_column(Integer, default=0)
    cases_opened: Mapped[int] = mapped_column(Integer, default=0)
    actions: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    # When the last chunk committed: a running job that stopped moving was interrupted.
    updated_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
