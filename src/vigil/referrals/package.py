"""The package a referral carries: only what its route allows, built the same way every time.

Sections: the content (the item's text, its media by hash and, for files Vigil
holds, their bytes), times in ISO 8601 with a time zone, the reasoning (the
decision's clause and the signals' kinds and banks, never a reviewer's internal
note), identifiers (platform ids), and a chain of custody: the SHA-256 of each
evidence file and who handled the item when (each ``evidence.viewed`` by a
person up to the approval, the decision, its confirmation, the referral's own
steps). Nothing depends on the time it is built, so rebuilding an approved
referral gives the same SHA-256 that was stored on it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.audit.canonical import canonical_json
from vigil.audit.models import Event
from vigil.banks.models import Bank
from vigil.cases.models import Case, Decision
from vigil.items.models import Account, Item
from vigil.policy.models import Verdict
from vigil.policy.schema import ReferralRoute
from vigil.referrals.models import Referral
from vigil.signals.models import Signal

FORMAT = "vigil-referral/1"
# Actors that are Vigil itself, not a person: their views do not count as a person opening a file.
MACHINE_ACTORS = frozenset({"system", "pipeline", "automation", "scheduler"})

# What each route may receive. Other, configured recipients get no file bytes and no text:
# hashes, identifiers and reasoning only, until the policy owner decides otherwise in code review.
SECTIONS: dict[ReferralRoute, frozenset[str]] = {
    ReferralRoute.NCMEC: frozenset({"text", "files", "media_urls"}),
    ReferralRoute.DSA_ART18: frozenset({"text", "files", "media_urls"}),
    ReferralRoute.UK_NCA: frozenset({"text", "files", "media_urls"}),
    ReferralRoute.OTHER: frozenset(),
}


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with an explicit offset (+00:00)."""
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def is_person(actor: str) -> bool:
    return actor.strip().casefold() not in MACHINE_ACTORS


@dataclass(frozen=True)
class EvidenceFile:
    name: str
    sha256: str
    md5: str | None
    mime: str | None
    size: int | None
    uploaded_at: datetime
    # None: Vigil holds only the hash (the bytes were never stored, were dropped, or the
    # route may not receive them).
    data: bytes | None
    # A person opened the item in Vigil (an evidence.viewed event by a person).
    viewed_by_person: bool


@dataclass(frozen=True)
class Package:
    route: ReferralRoute
    manifest: dict[str, Any]
    files: tuple[EvidenceFile, ...]

    def manifest_bytes(self) -> bytes:
        return canonical_json(self.manifest).encode("utf-8")

    @property
    def sha256(self) -> str:
        """Covers every file too: the manifest lists each file's SHA-256."""
        return hashlib.sha256(self.manifest_bytes()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        """The manifest as parsed JSON (for JSON routes)."""
        parsed: dict[str, Any] = json.loads(self.manifest_bytes())
        return parsed


def _views(session: Session, item_id: int, until: datetime) -> list[tuple[datetime, str]]:
    """(when, who) for every ``evidence.viewed`` of the item by a person up to ``until``."""
    case_ids = list(session.scalars(select(Case.id).where(Case.item_id == item_id)))
    if not case_ids:
        return []
    rows = session.execute(
        select(Event.ts, Event.actor, Event.body)
        .where(
            Event.type == "evidence.viewed",
            Event.subject.in_([f"case:{c}" for c in case_ids]),
            Event.ts <= until,
        )
        .order_by(Event.seq)
    )
    out = []
    for ts, actor, body in rows:
        if json.loads(body)["payload"].get("item_id") == item_id and is_person(actor):
            out.append((ts, actor))
    return out


def _signals(session: Session, item_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Signal.kind, Bank.name, Signal.category, Signal.model)
        .outerjoin(Bank, Bank.id == Signal.bank_id)
        .where(Signal.item_id == item_id)
        .order_by(Signal.id)
    )
    seen: list[dict[str, Any]] = []
    for kind, bank, category, model in rows:
        entry = {"kind": kind, "bank": bank, "category": category, "model": model}
        if entry not in seen:
            seen.append(entry)
    return seen


def build_package(session: Session, referral: Referral) -> Package:
    """The package as of the referral's approval (or its proposal, for a preview)."""
    route = ReferralRoute(referral.route)
    allowed = SECTIONS[route]
    as_of = referral.approved_at or referral.proposed_at
    item = session.get(Item, referral.item_id)
    decision = session.get(Decision, referral.decision_id)
    case = session.get(Case, referral.case_id)
    assert item is not None
    assert decision is not None
    assert case is not None
    account = session.get(Account, item.account_id)
    assert account is not None
    verdict = session.get(Verdict, case.verdict_id)
    views = _views(session, item.id, as_of)
    viewed = bool(views)
    files: list[EvidenceFile] = []
    media_out: list[dict[str, Any]] = []
    for media in item.media:
        data = media.data if "files" in allowed else None
        digest = hashlib.sha256(media.data).hexdigest() if media.data is not None else media.sha256
        entry: dict[str, Any] = {
            "position": media.position,
            "sha256": digest,
            "md5": media.md5,
            "mime": media.mime,
            "size": media.size,
            "bytes_included": data is not None,
        }
        if "media_urls" in allowed:
            entry["url"] = media.url
        if digest is None:
            media_out.append(entry)
            continue
        name = f"{item.platform_item_id}-{media.position}"
        entry["name"] = name
        media_out.append(entry)
        files.append(
            EvidenceFile(
                name=name,
                sha256=digest,
                md5=media.md5,
                mime=media.mime,
                size=len(data) if data is not None else media.size,
                uploaded_at=item.created_at,
                data=data,
                viewed_by_person=viewed,
            )
        )
    handling = [{"at": iso(ts), "actor": actor, "step": "evidence.viewed"} for ts, actor in views]
    handling.append({"at": iso(decision.decided_at), "actor": decision.reviewer, "step": "decided"})
    if decision.confirmed_by and decision.confirmed_at:
        handling.append(
            {"at": iso(decision.confirmed_at), "actor": decision.confirmed_by, "step": "confirmed"}
        )
    handling.append(
        {
            "at": iso(referral.proposed_at),
            "actor": referral.proposed_by,
            "step": "referral.proposed",
        }
    )
    if referral.approved_by and referral.approved_at:
        handling.append(
            {
                "at": iso(referral.approved_at),
                "actor": referral.approved_by,
                "step": "referral.approved",
            }
        )
    handling.sort(key=lambda h: (h["at"] or "", h["step"], h["actor"]))
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "referral": {
            "id": referral.id,
            "route": referral.route,
            "priority": referral.priority,
            "destination": list(referral.destination),
            "legal_basis": referral.legal_basis,
            "category": referral.category,
            "deadline_at": iso(referral.deadline_at),
        },
        "content": {
            "platform_item_id": item.platform_item_id,
            "kind": item.kind,
            "language": item.language,
            "text": item.text if "text" in allowed else None,
            "text_sha256": item.text_sha256,
            "urls": list(item.urls or []) if "text" in allowed else [],
            "media": media_out,
        },
        "times": {
            "published_at": iso(item.created_at),
            "ingested_at": iso(item.ingested_at),
            "detected_at": iso(referral.detected_at),
            "decided_at": iso(decision.decided_at),
            "confirmed_at": iso(decision.confirmed_at),
            "proposed_at": iso(referral.proposed_at),
            "approved_at": iso(referral.approved_at),
        },
        "reasoning": {
            "outcome": decision.outcome,
            "clause": decision.clause,
            "actions": list(decision.actions),
            "rule_id": verdict.rule_id if verdict else None,
            "signals": _signals(session, item.id),
        },
        "identifiers": {
            "platform_account_id": account.platform_account_id,
            "handle": account.handle,
            "platform_item_id": item.platform_item_id,
            "space": item.space,
            "parent_platform_id": item.parent_platform_id,
        },
        "chain_of_custody": {
            "files": [{"name": f.name, "sha256": f.sha256} for f in files],
            "handling": handling,
        },
    }
    return Package(route=route, manifest=manifest, files=tuple(files))
