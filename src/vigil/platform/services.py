"""Configuring platform integration: webhook endpoints and pull-API tokens.

Every change is an audit event. Events name the secret's environment variable and
the token's name, never a secret, a token or its hash; endpoint URLs are logged
without user-info or query string, where secrets are sometimes embedded.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.audit.models import ChainHead
from vigil.platform.feed import check_types
from vigil.platform.models import (
    PlatformToken,
    WebhookDeadLetter,
    WebhookDelivery,
    WebhookEndpoint,
)
from vigil.unit_of_work import UnitOfWork

TOKEN_PREFIX = "vgl_"  # noqa: S105 - a marker, not a secret
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class PlatformError(ValueError):
    """A platform setting that cannot be applied; the message names the field."""


def _check_name(field: str, name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise PlatformError(f"{field}: must be 1 to 100 characters")
    return name


def check_url(url: str, *, allow_http: bool = False) -> str:
    """An absolute http(s) URL; plain http only to loopback unless explicitly allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PlatformError(f"url: {safe_url(url)!r} is not an absolute http(s) URL")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK and not allow_http:
        raise PlatformError(
            "url: plain http sends statements unencrypted; use https (or allow http explicitly)"
        )
    return url


def safe_url(url: str) -> str:
    """The URL as logged and shown: no user-info, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def add_endpoint(
    uow: UnitOfWork,
    *,
    name: str,
    url: str,
    secret_env: str,
    event_types: Iterable[str] = (),
    from_start: bool = False,
    allow_http: bool = False,
    actor: str = "system",
) -> WebhookEndpoint:
    """Register an endpoint; it receives events recorded from now on (or all, ``from_start``)."""
    name = _check_name("name", name)
    check_url(url, allow_http=allow_http)
    if not _ENV_NAME.match(secret_env):
        raise PlatformError(f"secret_env: {secret_env!r} is not an environment variable name")
    try:
        types = list(check_types(event_types)) if event_types else []
    except ValueError as exc:
        raise PlatformError(str(exc)) from None
    if uow.session.scalar(select(WebhookEndpoint.id).where(WebhookEndpoint.name == name)):
        raise PlatformError(f"name: a webhook endpoint named {name!r} already exists")
    start = 0 if from_start else int(uow.session.scalar(select(ChainHead.seq)) or 0)
    endpoint = WebhookEndpoint(
        name=name,
        url=url,
        secret_env=secret_env,
        event_types=types,
        active=True,
        created_at=uow.now(),
    )
    uow.session.add(endpoint)
    uow.session.flush()
    uow.session.add(
        WebhookDelivery(endpoint_id=endpoint.id, cursor_seq=start, attempts=0, delivered=0)
    )
    uow.log.record(
        "webhook.added",
        f"webhook:{endpoint.id}",
        {
            "name": name,
            "url": safe_url(url),
            "secret_env": secret_env,
            "event_types": types,
            "cursor": start,
        },
        actor=actor,
    )
    return endpoint


def endpoint_by_name(session: Session, name: str) -> WebhookEndpoint:
    endpoint = session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.name == name))
    if endpoint is None:
        raise PlatformError(f"name: no webhook endpoint named {name!r}")
    return endpoint


def set_endpoint_active(
    uow: UnitOfWork, name: str, active: bool, *, actor: str = "system"
) -> WebhookEndpoint:
    """Pause or resume an endpoint; a paused endpoint keeps its cursor and catches up later."""
    endpoint = endpoint_by_name(uow.session, name)
    if endpoint.active != active:
        endpoint.active = active
        uow.log.record(
            "webhook.enabled" if active else "webhook.disabled",
            f"webhook:{endpoint.id}",
            {"name": endpoint.name},
            actor=actor,
        )
    return endpoint


@dataclass(frozen=True)
class EndpointStatus:
    endpoint: WebhookEndpoint
    delivery: WebhookDelivery
    dead_letters: int


def endpoint_statuses(session: Session) -> list[EndpointStatus]:
    """Every endpoint with its delivery state and how many events it dead-lettered."""
    dead = {
        endpoint_id: count
        for endpoint_id, count in session.execute(
            select(WebhookDeadLetter.endpoint_id, func.count()).group_by(
                WebhookDeadLetter.endpoint_id
            )
        )
    }
    rows = session.execute(
        select(WebhookEndpoint, WebhookDelivery)
        .join(WebhookDelivery, WebhookDelivery.endpoint_id == WebhookEndpoint.id)
        .order_by(WebhookEndpoint.name)
    )
    return [EndpointStatus(e, d, int(dead.get(e.id, 0))) for e, d in rows]


def dead_letters(session: Session, name: str | None = None) -> list[WebhookDeadLetter]:
    stmt = select(WebhookDeadLetter).order_by(WebhookDeadLetter.id)
    if name is not None:
        stmt = stmt.where(WebhookDeadLetter.endpoint_id == endpoint_by_name(session, name).id)
    return list(session.scalars(stmt))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(uow: UnitOfWork, name: str, *, actor: str = "system") -> tuple[PlatformToken, str]:
    """A new pull-API token; the plain token is returned here once and stored only as a hash."""
    name = _check_name("name", name)
    if uow.session.scalar(select(PlatformToken.id).where(PlatformToken.name == name)):
        raise PlatformError(f"name: a token named {name!r} already exists")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = PlatformToken(name=name, token_sha256=token_digest(token), created_at=uow.now())
    uow.session.add(row)
    uow.session.flush()
    uow.log.record(
        "platform_token.created", f"platform_token:{row.id}", {"name": name}, actor=actor
    )
    return row, token


def revoke_token(uow: UnitOfWork, name: str, *, actor: str = "system") -> PlatformToken:
    row = uow.session.scalar(select(PlatformToken).where(PlatformToken.name == name))
    if row is None:
        raise PlatformError(f"name: no token named {name!r}")
    if row.revoked_at is not None:
        raise PlatformError(f"name: token {name!r} was already revoked")
    row.revoked_at = uow.now()
    uow.log.record(
        "platform_token.revoked", f"platform_token:{row.id}", {"name": name}, actor=actor
    )
    return row


def authenticate(session: Session, token: str | None) -> PlatformToken | None:
    """The live token row for a presented token; None when unknown or revoked.

    Looked up by its SHA-256, so the stored value never meets the presented one.
    """
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(
        select(PlatformToken).where(PlatformToken.token_sha256 == token_digest(token))
    )
    if row is None or row.revoked_at is not None:
        return None
    return row


def list_tokens(session: Session) -> list[PlatformToken]:
    return list(session.scalars(select(PlatformToken).order_by(PlatformToken.name)))


def when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"
