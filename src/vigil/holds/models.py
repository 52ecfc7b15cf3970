"""Legal holds (preservation): data that must outlive retention and erasure for a while.

A hold names an account (covering all its items) or one item, the legal basis,
what placed it (a referral, a request from an authority) and when it lapses.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base


class LegalHold(Base):
    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    # None: the hold covers every item of the account.
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    source: Mapped[str] = mapped_column(String(64))  # e.g. "referral:12", "request:5"
    legal_basis: Mapped[str] = mapped_column(String(500))
    placed_by: Mapped[str] = mapped_column(String(200))
    placed_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    released_at: Mapped[datetime | None]
    lapsed_at: Mapped[datetime | None]
