"""Referrals to authorities. ``Referral.status`` is a projection kept equal to
``reducer.referral_status`` over the referral's events.

What the referral says (route, priority, destination, legal basis, deadline) is
copied from the policy when it is proposed, so a later policy change never
rewrites what was approved.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base


class ReferralStatus(enum.StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    SUBMITTED = "submitted"
    # The last attempt to send it failed; it may be sent again.
    FAILED = "failed"
    # The decision it rests on was reversed on appeal before it was sent: it is never sent.
    WITHDRAWN = "withdrawn"


class Referral(Base):
    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # One referral per decision, even when two people propose it at once.
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True, unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    category: Mapped[str] = mapped_column(String(64))
    route: Mapped[str] = mapped_column(String(16), index=True)
    priority: Mapped[str] = mapped_column(String(32))
    destination: Mapped[list[Any]] = mapped_column(JSON, default=list)
    legal_basis: Mapped[str] = mapped_column(String(500))
    hold_seconds: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=ReferralStatus.PROPOSED.value)
    # When the item was first detected (its first signal or verdict): figures count from here.
    detected_at: Mapped[datetime]
    proposed_by: Mapped[str] = mapped_column(String(200))
    proposed_at: Mapped[datetime]
    deadline_at: Mapped[datetime] = mapped_column(index=True)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None]
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("legal_holds.id"))
    # SHA-256 of the package as built at approval (see package.Package.sha256).
    package_sha256: Mapped[str | None] = mapped_column(String(64))
    # Sent with every attempt, so a retry after a lost answer never makes a second report.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Progress of a multi-step submission (NCMEC: report id, uploaded file ids).
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    external_id: Mapped[str | None] = mapped_column(String(200))
    submitted_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
