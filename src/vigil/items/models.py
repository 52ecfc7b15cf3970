"""Accounts, items, media and notices as Vigil stores them.

Content columns (``text``, ``urls``, media ``url``/``data``) are nullable: the
retention policy drops them for items that raised no signal, keeping only ids
and content hashes so later bank additions can still match.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigil.db.base import Base, utcnow


class ItemKind(enum.StrEnum):
    POST = "post"
    COMMENT = "comment"
    PROFILE = "profile"
    MEDIA = "media"
    PUBLIC_MESSAGE = "public_message"


class ItemStatus(enum.StrEnum):
    VISIBLE = "visible"
    RESTRICTED = "restricted"
    REMOVED = "removed"


class AccountStatus(enum.StrEnum):
    ACTIVE = "active"
    RESTRICTED = "restricted"  # some features limited for a time (restrict_account)
    SUSPENDED = "suspended"
    CLOSED = "closed"


class ScanState(enum.StrEnum):
    PENDING = "pending"
    SCANNED = "scanned"


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_account_id: Mapped[str] = mapped_column(String(200), unique=True)
    handle: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    account_type: Mapped[str] = mapped_column(String(16), default="private")
    registered_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=AccountStatus.ACTIVE.value)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # GDPR erasure: asked for, and completed (held data waits for its hold to lapse).
    erasure_requested_at: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_item_id: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    space: Mapped[str | None] = mapped_column(String(200))
    parent_platform_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    ingested_at: Mapped[datetime]
    language: Mapped[str | None] = mapped_column(String(8))
    country: Mapped[str | None] = mapped_column(String(2))
    text: Mapped[str | None] = mapped_column(Text)
    urls: Mapped[list[Any] | None] = mapped_column(JSON)
    text_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default=ItemStatus.VISIBLE.value)
    scan_state: Mapped[str] = mapped_column(String(16), default=ScanState.PENDING.value, index=True)
    scanned_at: Mapped[datetime | None]
    content_retained: Mapped[bool] = mapped_column(Boolean, default=True)
    content_dropped_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship(lazy="joined")
    media: Mapped[list[Media]] = relationship(
        back_populates="item", order_by="Media.position", lazy="selectin"
    )


class Media(Base):
    __tablename__ = "media"
    __table_args__ = (Index("ix_media_sha256", "sha256"), Index("ix_media_md5", "md5"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(Text)
    mime: Mapped[str | None] = mapped_column(String(100))
    md5: Mapped[str | None] = mapped_column(String(32))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Perceptual hash (64 hex digits) and its quality; kept, like md5/sha256, when content is dropped.
    pdq: Mapped[str | None] = mapped_column(String(64))
    pdq_quality: Mapped[int | None] = mapped_column(Integer)
    # The seven other rotations and mirrors, computed from the image (DIHEDRAL_ORDER[1:]).
    pdq_variants: Mapped[list[Any] | None] = mapped_column(JSON)

    item: Mapped[Item] = relationship(back_populates="media")


class Notice(Base):
    """A user or trusted-flagger report about an item (DSA Art. 16).

    ``acknowledged_at`` is set when the notice is stored (Art. 16(4)); ``outcome``
    (``action_taken`` or ``no_action``), ``outcome_at`` and ``decision_id`` when the
    decision on the item is reached and the notifier is told (Art. 16(5)).
    """

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_notice_id: Mapped[str] = mapped_column(String(200), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    reporter: Mapped[str | None] = mapped_column(String(200), index=True)
    reporter_type: Mapped[str] = mapped_column(String(24))
    category: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_at: Mapped[datetime | None]
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
