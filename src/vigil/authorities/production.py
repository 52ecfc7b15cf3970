"""Building what an approved request may receive, and nothing else.

The package covers only the accounts the request's own targets matched when it
arrived (:func:`services.named_account_ids`); :func:`build_package` refuses any
other account id, so no caller can widen it. It holds only categories the
instrument allows (:func:`safeguards.producible`) and only data already held at
receipt: nothing ingested later, and no text whose content was dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.audit.canonical import canonical_json
from vigil.authorities.models import (
    AuthorityProduction,
    AuthorityRequest,
    DataCategory,
    RequestKind,
    RequestStatus,
)
from vigil.authorities.safeguards import check_verified, producible
from vigil.authorities.services import (
    AuthorityError,
    _step,
    get,
    named_account_ids,
    nondisclosure_applies,
    notify_user,
    targets_of,
)
from vigil.items.models import Account, Item
from vigil.staff.models import Role
from vigil.staff.services import require_role
from vigil.unit_of_work import UnitOfWork


class ProductionError(AuthorityError):
    """A production that would reach beyond what the approved request allows."""


@dataclass(frozen=True)
class Produced:
    production: AuthorityProduction
    package: dict[str, Any]
    body: str  # the canonical JSON that was hashed and is handed over


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None else None


def _whole_accounts(
    session: Session, req: AuthorityRequest
) -> tuple[set[int], dict[int, set[int]]]:
    """Accounts named as a whole, and for the rest the single items named."""
    whole: set[int] = set()
    items: dict[int, set[int]] = {}
    for t in targets_of(session, req.id):
        if t.account_id is None:
            continue
        if t.item_id is None:
            whole.add(t.account_id)
        else:
            items.setdefault(t.account_id, set()).add(t.item_id)
    return whole, items


def build_package(
    session: Session, req: AuthorityRequest, account_ids: Iterable[int]
) -> dict[str, Any]:
    """The package for ``account_ids``, all of which must be named in the approved request."""
    if req.status != RequestStatus.APPROVED.value or check_verified(req.verified_at):
        raise ProductionError(f"request #{req.id} is not verified and approved")
    if not RequestKind(req.kind).produces:
        raise ProductionError(f"request #{req.id}: a {req.kind} is not answered with data")
    named = set(named_account_ids(session, req.id))
    wanted = sorted(set(account_ids))
    stray = [a for a in wanted if a not in named]
    if stray:
        raise ProductionError(
            f"request #{req.id} does not name account(s) {', '.join(map(str, stray))}"
        )
    categories = producible(req.instrument, req.data_categories)
    if not categories:
        raise ProductionError(f"request #{req.id}: {req.instrument} allows none of what it asks")
    basic = DataCategory.SUBSCRIBER_BASIC in categories
    logs = DataCategory.NON_CONTENT_TRAFFIC_LOGS in categories
    content = DataCategory.CONTENT in categories
    whole, named_items = _whole_accounts(session, req)
    accounts: list[dict[str, Any]] = []
    for account in session.scalars(
        select(Account).where(Account.id.in_(wanted)).order_by(Account.id)
    ):
        entry: dict[str, Any] = {"platform_account_id": account.platform_account_id}
        if basic:
            entry.update(
                handle=account.handle,
                country=account.country,
                registered_at=_iso(account.registered_at),
            )
        if logs or content:
            query = select(Item).where(
                Item.account_id == account.id, Item.ingested_at <= req.received_at
            )
            if req.range_from is not None:
                query = query.where(Item.created_at >= req.range_from)
            if req.range_to is not None:
                query = query.where(Item.created_at <= req.range_to)
            if account.id not in whole:
                query = query.where(Item.id.in_(sorted(named_items.get(account.id, set()))))
            rows = []
            for item in session.scalars(query.order_by(Item.created_at, Item.id)):
                row: dict[str, Any] = {
                    "platform_item_id": item.platform_item_id,
                    "kind": item.kind,
                    "created_at": _iso(item.created_at),
                }
                if content:
                    row["text"] = item.text if item.content_retained else None
                rows.append(row)
            entry["items"] = rows
        accounts.append(entry)
    return {
        "request": {
            "id": req.id,
            "reference": req.reference,
            "authority": req.authority_name,
            "country": req.authority_country,
            "instrument": req.instrument,
            "time_range": [_iso(req.range_from), _iso(req.range_to)],
        },
        "categories": [c.value for c in categories],
        "accounts": accounts,
    }


def produce(uow: UnitOfWork, request_id: int, *, by: str) -> Produced:
    """Hand over the package for an approved request (``produced``), then tell the user if allowed."""
    require_role(uow, by, Role.LEGAL_OFFICER, to="produce data for an authority")
    req = get(uow.session, request_id)
    package = build_package(uow.session, req, named_account_ids(uow.session, req.id))
    now = uow.now()
    package["produced_at"] = now.isoformat()
    body = canonical_json(package)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    account_ids = named_account_ids(uow.session, req.id)
    production = AuthorityProduction(
        request_id=req.id,
        produced_by=by,
        produced_at=now,
        categories=package["categories"],
        account_ids=account_ids,
        item_count=sum(len(a.get("items", [])) for a in package["accounts"]),
        package_sha256=digest,
    )
    uow.session.add(production)
    uow.session.flush()
    req.produced_at = now
    withheld = sorted(set(req.data_categories) - set(package["categories"]))
    delayed = nondisclosure_applies(req, now)
    _step(
        uow,
        req,
        "produced",
        {
            "production_id": production.id,
            "categories": production.categories,
            "withheld_categories": withheld,
            "account_ids": account_ids,
            "items": production.item_count,
            "package_sha256": digest,
            "user_notice": "delayed" if delayed else "now",
        },
        actor=by,
    )
    if not delayed:
        notify_user(uow, req, by=by)
    return Produced(production, package, body)
