"""The demo's legal desk: one referral out, one refused and one fulfilled request in.

lena, the legal officer, approves an Art. 18 referral that alice proposed on a
threat-to-life decision (bob confirmed it), so the package and its chain of
custody are written out; then two requests arrive: a keyword-wide one, refused
at intake, and a production order naming one account, verified by a call to the
authority's published switchboard, approved and produced. Files go to
``OUT/authorities/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select

from vigil.authorities import services as requests
from vigil.authorities.production import produce
from vigil.authorities.schemas import RequestIn
from vigil.cases.models import Case, Decision, DecisionStatus, Outcome
from vigil.demo.review import APPEALS_REVIEWER, REVIEWER, SECOND_REVIEWER
from vigil.items.models import Account, Item
from vigil.policy.schema import Policy, ReferralRoute
from vigil.referrals import services as referrals
from vigil.referrals.package import build_package
from vigil.staff.models import Role
from vigil.staff.services import add_member, find
from vigil.unit_of_work import unit_of_work

LEGAL_OFFICER = "lena"
STAFF = {
    REVIEWER: [Role.MODERATOR],
    SECOND_REVIEWER: [Role.SENIOR_MODERATOR],
    APPEALS_REVIEWER: [Role.SENIOR_MODERATOR],
    LEGAL_OFFICER: [Role.LEGAL_OFFICER],
}


@dataclass
class LegalDesk:
    referral_id: int | None = None
    referral_route: str | None = None
    referral_package: Path | None = None
    refused_request: int | None = None
    refusal_reasons: list[str] = field(default_factory=list)
    produced_request: int | None = None
    production_file: Path | None = None


def register_staff(engine: Engine) -> None:
    with unit_of_work(engine) as uow:
        for name, roles in STAFF.items():
            if find(uow, name) is None:
                add_member(uow, name, roles, by="demo")


def _referable_decision(engine: Engine, policy: Policy) -> int | None:
    """A confirmed violating decision in a category referred under DSA Art. 18."""
    art18 = [
        cid
        for cid, cat in policy.categories.items()
        if cat.referral is not None and cat.referral.route is ReferralRoute.DSA_ART18
    ]
    with unit_of_work(engine) as uow:
        return uow.session.scalar(
            select(Decision.id)
            .where(
                Decision.outcome == Outcome.VIOLATING.value,
                Decision.status == DecisionStatus.FINAL.value,
                Decision.clause.in_(art18),
            )
            .order_by(Decision.clause != "threat_to_life", Decision.id)
            .limit(1)
        )


def _refer(engine: Engine, policy: Policy, out: Path, desk: LegalDesk) -> None:
    decision_id = _referable_decision(engine, policy)
    if decision_id is None:
        return
    with unit_of_work(engine) as uow:
        referral = referrals.propose(uow, decision_id, REVIEWER, policy)
        referral_id = referral.id
    with unit_of_work(engine) as uow:
        referral = referrals.approve(uow, referral_id, LEGAL_OFFICER, policy)
        package = build_package(uow.session, referral)
        folder = out / f"referral-{referral_id}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "manifest.json").write_bytes(package.manifest_bytes())
        for evidence in package.files:
            if evidence.data is not None:  # the route may receive the bytes Vigil holds
                (folder / Path(evidence.name).name).write_bytes(evidence.data)
        desk.referral_id, desk.referral_route = referral_id, referral.route
        desk.referral_package = folder


def _suspect(engine: Engine, desk: LegalDesk) -> tuple[str, str, str] | None:
    """The referred account (or any sanctioned one), with the span of its items."""
    with unit_of_work(engine) as uow:
        query = select(
            Account.platform_account_id, func.min(Item.created_at), func.max(Item.created_at)
        )
        query = query.join(Item, Item.account_id == Account.id)
        query = query.join(Case, Case.item_id == Item.id).join(
            Decision, Decision.case_id == Case.id
        )
        query = query.where(Decision.outcome == Outcome.VIOLATING.value)
        row = uow.session.execute(
            query.group_by(Account.platform_account_id)
            .order_by(Account.platform_account_id)
            .limit(1)
        ).first()
    if row is None:
        return None
    start, end = row[1] - timedelta(days=1), row[2] + timedelta(days=1)
    return str(row[0]), start.isoformat(), end.isoformat()


def _requests(engine: Engine, policy: Policy, out: Path, desk: LegalDesk) -> None:
    authority = {"name": "Demo Federal Police", "country": "DE", "agency_type": "police"}
    broad = RequestIn.model_validate(
        {
            "reference": "DEMO-2026-001",
            "kind": "production",
            "authority": authority,
            "instrument": "EU_EPOC_PRODUCTION",
            "channel": "email",
            "targets": [{"identifier_type": "keyword", "value": "protest"}],
            "time_range": {"from": "2026-01-01T00:00:00Z", "to": "2026-06-30T00:00:00Z"},
            "data_categories": ["subscriber_basic", "content"],
        }
    )
    with unit_of_work(engine) as uow:
        refused, problems = requests.intake_checked(uow, broad, policy=policy, by="intake-desk")
        desk.refused_request = refused.id
        desk.refusal_reasons = [p.code for p in problems]
    suspect = _suspect(engine, desk)
    if suspect is None:
        return
    account, start, end = suspect
    targeted = RequestIn.model_validate(
        {
            "reference": "DEMO-2026-002",
            "kind": "production",
            "authority": authority,
            "instrument": "EU_EPOC_PRODUCTION",
            "channel": "le_portal",
            "targets": [{"identifier_type": "account_id", "value": account}],
            "time_range": {"from": start, "to": end},
            "data_categories": ["subscriber_basic", "content"],
        }
    )
    with unit_of_work(engine) as uow:
        request = requests.intake(uow, targeted, policy=policy, by="intake-desk")
        request_id = request.id
    with unit_of_work(engine) as uow:
        requests.verify(
            uow,
            request_id,
            method="callback_to_published_switchboard",
            by=LEGAL_OFFICER,
            evidence_ref="demo: call-back log entry 1",
        )
    with unit_of_work(engine) as uow:
        requests.approve(uow, request_id, by=LEGAL_OFFICER)
    with unit_of_work(engine) as uow:
        produced = produce(uow, request_id, by=LEGAL_OFFICER)
        path = out / f"production-{request_id}.json"
        path.write_text(produced.body, encoding="utf-8")
    desk.produced_request, desk.production_file = request_id, path


def legal_desk(engine: Engine, policy: Policy, out: Path) -> LegalDesk:
    """Run the legal desk after the review shift; returns what it did and where the files are."""
    out.mkdir(parents=True, exist_ok=True)
    desk = LegalDesk()
    register_staff(engine)
    _refer(engine, policy, out, desk)
    _requests(engine, policy, out, desk)
    (out / "summary.json").write_text(
        json.dumps(
            {
                "referral": desk.referral_id,
                "referral_route": desk.referral_route,
                "refused_request": desk.refused_request,
                "refusal_reasons": desk.refusal_reasons,
                "produced_request": desk.produced_request,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return desk
