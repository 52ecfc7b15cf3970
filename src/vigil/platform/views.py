"""The pull API: ``GET /v1/platform/feed`` for platforms that prefer polling to webhooks.

Messages are the same as the webhook bodies. ``router`` reads the engine from
``request.app.state.engine``, so a larger app (``vigil serve``) can mount it next to
other routers; :func:`create_app` builds a standalone app around it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from vigil import __version__
from vigil.platform import feed
from vigil.platform.services import authenticate


class FeedMessage(BaseModel):
    id: str
    type: str
    cursor: str
    occurred_at: str
    data: dict[str, Any]


class FeedResponse(BaseModel):
    events: list[FeedMessage]
    next_cursor: str


def get_engine(request: Request) -> Engine:
    engine = getattr(request.app.state, "engine", None)
    if not isinstance(engine, Engine):
        raise RuntimeError("app.state.engine is not set: build the app with create_app(engine)")
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def require_token(engine: EngineDep, authorization: Annotated[str | None, Header()] = None) -> str:
    """The calling token's name; 401 for a missing, unknown or revoked bearer token."""
    if not authorization:
        raise _unauthorized("bearer token required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("bearer token required")
    with Session(engine) as session:
        row = authenticate(session, token.strip())
        if row is None:
            raise _unauthorized("invalid or revoked token")
        return row.name


router = APIRouter(prefix="/v1/platform", tags=["platform"])


@router.get("/feed", response_model=FeedResponse)
def read_feed(
    engine: EngineDep,
    _token: Annotated[str, Depends(require_token)],
    after: Annotated[
        str, Query(description="Cursor from a previous page; empty for the start.")
    ] = "",
    limit: Annotated[int, Query(ge=1, le=feed.MAX_PAGE)] = 100,
    types: Annotated[
        str | None, Query(description="Comma-separated event types (default: all feed types).")
    ] = None,
) -> dict[str, Any]:
    """Feed events after ``after``, oldest first, and the cursor to ask for next."""
    try:
        seq = feed.parse_cursor(after)
        wanted = [t.strip() for t in types.split(",") if t.strip()] if types else None
        feed.check_types(wanted)
    except ValueError as exc:
        raise HTTPException(400, detail=str(exc)) from None
    with Session(engine) as session:
        page = feed.read(session, after=seq, limit=limit, types=wanted)
    return {"events": [e.message() for e in page.events], "next_cursor": page.next_cursor}


def create_app(engine: Engine) -> FastAPI:
    """A standalone app serving the pull API from ``engine``."""
    app = FastAPI(title="Vigil platform API", version=__version__)
    app.state.engine = engine
    app.include_router(router)
    return app
