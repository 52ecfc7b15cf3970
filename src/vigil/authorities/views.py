"""The intake API: ``POST /v1/authorities/requests`` and ``GET /v1/authorities/requests/{id}``.

Callers hold a bearer token (``vigil platform token``); the token's name is
recorded as who received the request, and a caller sees only requests it sent.
Answers carry the status and reason codes, never data about anyone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from vigil import __version__
from vigil.authorities import services
from vigil.authorities.models import AuthorityRequest
from vigil.authorities.schemas import RequestIn
from vigil.platform.services import authenticate
from vigil.policy.schema import Policy
from vigil.policy.services import load_active
from vigil.unit_of_work import unit_of_work


class RefusalOut(BaseModel):
    code: str
    message: str


class RequestOut(BaseModel):
    id: int
    reference: str
    kind: str
    status: str
    received_at: datetime
    acknowledged_at: datetime | None
    comply_by: datetime | None
    verified: bool
    produced_at: datetime | None
    effect_given_at: datetime | None
    refusal_code: str | None
    refusals: list[RefusalOut] = []


def get_engine(request: Request) -> Engine:
    engine = getattr(request.app.state, "engine", None)
    if not isinstance(engine, Engine):
        raise RuntimeError("app.state.engine is not set: build the app with create_app(engine)")
    return engine


def get_policy(request: Request) -> Policy:
    policy = getattr(request.app.state, "policy", None)
    return policy if isinstance(policy, Policy) else load_active()[0]


EngineDep = Annotated[Engine, Depends(get_engine)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def require_token(engine: EngineDep, authorization: Annotated[str | None, Header()] = None) -> str:
    """Who calls, as recorded: ``token:NAME``; 401 for a missing, unknown or revoked token."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("bearer token required")
    with Session(engine) as session:
        row = authenticate(session, token.strip())
        if row is None:
            raise _unauthorized("invalid or revoked token")
        return f"token:{row.name}"


Caller = Annotated[str, Depends(require_token)]


def _out(req: AuthorityRequest, refusals: list[RefusalOut] | None = None) -> RequestOut:
    return RequestOut(
        id=req.id,
        reference=req.reference,
        kind=req.kind,
        status=req.status,
        received_at=req.received_at,
        acknowledged_at=req.acknowledged_at,
        comply_by=req.comply_by,
        verified=req.verified_at is not None,
        produced_at=req.produced_at,
        effect_given_at=req.effect_given_at,
        refusal_code=req.refusal_code,
        refusals=refusals or [],
    )


router = APIRouter(prefix="/v1/authorities", tags=["authorities"])


@router.post("/requests", response_model=RequestOut, status_code=201)
def submit_request(
    body: RequestIn,
    engine: EngineDep,
    caller: Caller,
    policy: Annotated[Policy, Depends(get_policy)],
) -> RequestOut:
    """Register a request; the answer is its acknowledgement, or its refusal with reason codes."""
    with unit_of_work(engine) as uow:
        req, refusals = services.intake_checked(uow, body, policy=policy, by=caller)
        return _out(req, [RefusalOut(code=r.code, message=r.message) for r in refusals])


@router.get("/requests/{request_id}", response_model=RequestOut)
def read_request(request_id: int, engine: EngineDep, caller: Caller) -> RequestOut:
    """Where a request stands; only the caller that sent it may ask."""
    with Session(engine) as session:
        req = session.get(AuthorityRequest, request_id)
        if req is None or req.received_by != caller:
            raise HTTPException(404, detail=f"no request #{request_id}")
        return _out(req)


def create_app(engine: Engine, policy: Policy | None = None) -> FastAPI:
    """A standalone app serving the intake API from ``engine``."""
    app = FastAPI(title="Vigil authority requests API", version=__version__)
    app.state.engine = engine
    app.state.policy = policy
    app.include_router(router)
    return app
