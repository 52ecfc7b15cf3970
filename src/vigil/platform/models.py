"""Webhook endpoints, their delivery state and dead letters, and pull-API tokens.

Secrets never reach the database: an endpoint stores the *name* of the environment
variable that holds its signing secret, and a token only the SHA-256 of its value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base

# The same type as ``events.seq``: 64-bit on PostgreSQL, SQLite's INTEGER otherwise.
Seq = BigInteger().with_variant(Integer, "sqlite")


class WebhookEndpoint(Base):
    """Where and what to send. ``event_types`` empty means every feed type."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(Text)
    secret_env: Mapped[str] = mapped_column(String(128))
    event_types: Mapped[list[Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class WebhookDelivery(Base):
    """One endpoint's progress through the feed: the last delivered seq and the retry clock.

    ``attempts`` counts failed tries at the event right after the cursor. The lease
    keeps two delivery workers from sending the same endpoint's events out of order.
    """

    __tablename__ = "webhook_deliveries"

    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"), primary_key=True)
    cursor_seq: Mapped[int] = mapped_column(Seq, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]


class WebhookDeadLetter(Base):
    """An event an endpoint never accepted within the allowed attempts; delivery moved on."""

    __tablename__ = "webhook_dead_letters"
    __table_args__ = (UniqueConstraint("endpoint_id", "event_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"), index=True)
    event_seq: Mapped[int] = mapped_column(Seq, ForeignKey("events.seq"))
    event_id: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))
    dead_lettered_at: Mapped[datetime]


class PlatformToken(Base):
    """A bearer token for the pull API, stored as its SHA-256 only."""

    __tablename__ = "platform_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
