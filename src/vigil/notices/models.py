"""Notifiers: who files notices, and their standing under DSA Art. 23.

A :class:`Notifier` row is a projection. ``warned_at``, ``limited_until`` and
``per_day`` are kept equal to ``standing.sanctions_of`` over the notifier's
``notifier.warned`` / ``notifier.limited`` events, and ``status`` with the
``window_*`` counts is ``standing.assess`` as of ``evaluated_at``. A limit ends
by itself when ``limited_until`` passes (no event): readers take the status at
their own time with ``Sanctions.status_at``.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base


class NoticeOutcome(enum.StrEnum):
    """What the notifier is told about their notice (DSA Art. 16(5))."""

    ACTION_TAKEN = "action_taken"
    NO_ACTION = "no_action"  # counts as unfounded for the notifier's standing


class NotifierKind(enum.StrEnum):
    USER = "user"
    TRUSTED_FLAGGER = "trusted_flagger"


class NotifierStatus(enum.StrEnum):
    OK = "ok"
    WARNED = "warned"
    LIMITED = "limited"


class Notifier(Base):
    __tablename__ = "notifiers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The reporter id the platform sends with each notice; anonymous notices have no notifier.
    notifier: Mapped[str] = mapped_column(String(200), unique=True)
    # The capacity of their latest notice: trusted flaggers are never limited automatically.
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16), default=NotifierStatus.OK.value, index=True)
    warned_at: Mapped[datetime | None]
    limited_until: Mapped[datetime | None] = mapped_column(index=True)
    per_day: Mapped[int | None] = mapped_column(Integer)
    # All time: notices stored, refused at intake, and decided either way.
    notices: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    founded: Mapped[int] = mapped_column(Integer, default=0)
    unfounded: Mapped[int] = mapped_column(Integer, default=0)
    # Within the policy window, as of evaluated_at: what the standing was judged on.
    window_decided: Mapped[int] = mapped_column(Integer, default=0)
    window_unfounded: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime]
    evaluated_at: Mapped[datetime | None]
