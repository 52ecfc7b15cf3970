"""Scenarios for referral tests: a decided CSAM case (benign stand-in bytes), a threat case.

Never real CSAM: the "abuse material" here is a few bytes of plain text whose
SHA-256 is put in a test bank of the child_sexual_exploitation category.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.support.spine import add_bank, context, item, write_jsonl
from vigil.audit.models import Event
from vigil.audit.services import as_reducer_input
from vigil.cases.models import Case, Outcome
from vigil.cases.services import confirm, decide, view
from vigil.ingest.services import ingest_file
from vigil.pipeline import ScanContext
from vigil.referrals.models import Referral
from vigil.referrals.reducer import referral_status
from vigil.staff.models import Role
from vigil.staff.services import add_member, find
from vigil.unit_of_work import unit_of_work

STAND_IN = b"[SYNTHETIC TEST BYTES] benign stand-in for a reported file"
STAND_IN_SHA = hashlib.sha256(STAND_IN).hexdigest()
HASH_ONLY_SHA = hashlib.sha256(b"[SYNTHETIC] a file Vigil never held").hexdigest()
THREAT = "[SYNTHETIC TEST CONTENT] i will hurt you"
NOTE = "INTERNAL-NOTE-never-leaves-vigil"


@dataclass
class Scenario:
    ctx: ScanContext
    case_id: int
    decision_id: int


def staff(engine: Engine) -> None:
    """alice and bob review; lena and lars are legal officers; mia moderates only."""
    people = {
        "alice": [Role.MODERATOR],
        "bob": [Role.SENIOR_MODERATOR, Role.LEGAL_OFFICER],
        "lena": [Role.LEGAL_OFFICER],
        "lars": [Role.LEGAL_OFFICER],
        "mia": [Role.MODERATOR],
    }
    with unit_of_work(engine) as uow:
        for name, roles in people.items():
            if find(uow, name) is None:
                add_member(uow, name, roles)


def _case(engine: Engine, category: str) -> int:
    with Session(engine) as s:
        ids = list(s.scalars(select(Case.id).where(Case.category == category).order_by(Case.id)))
    assert ids, f"no {category} case"
    return ids[0]


def decided(
    engine: Engine, ctx: ScanContext, category: str, *, view_by: str | None = "alice"
) -> Scenario:
    """alice views the evidence (unless ``view_by`` is None) and decides; bob confirms."""
    case_id = _case(engine, category)
    if view_by is not None:
        with unit_of_work(engine) as uow:
            view(uow, case_id, reviewer=view_by)
    with unit_of_work(engine) as uow:
        d = decide(
            uow,
            case_id,
            reviewer="alice",
            outcome=Outcome.VIOLATING,
            policy=ctx.policy,
            clause=category,
            note=NOTE,
        )
        decision_id = d.id
    with unit_of_work(engine) as uow:
        confirm(uow, case_id, "bob", ctx.policy)
    return Scenario(ctx, case_id, decision_id)


def csam(engine: Engine, tmp_path: Path, *, view_by: str | None = "alice") -> Scenario:
    add_bank(engine, tmp_path, "csam-hashes", "sha256", "child_sexual_exploitation", [STAND_IN_SHA])
    ctx = context(engine)
    record = item(
        "post-c1",
        "[SYNTHETIC] caption",
        author_id="acct-c1",
        media=[
            {"data_b64": base64.b64encode(STAND_IN).decode(), "mime": "text/plain"},
            {"sha256": HASH_ONLY_SHA, "url": "https://cdn.example/x.bin"},
        ],
    )
    ingest_file(engine, write_jsonl(tmp_path / "csam.jsonl", [record]), ctx)
    staff(engine)
    return decided(engine, ctx, "child_sexual_exploitation", view_by=view_by)


def threat(engine: Engine, tmp_path: Path) -> Scenario:
    add_bank(engine, tmp_path, "threat-terms", "term", "threat_to_life", ["i will hurt you"])
    ctx = context(engine)
    ingest_file(
        engine,
        write_jsonl(tmp_path / "t.jsonl", [item("post-t1", THREAT, author_id="acct-t1")]),
        ctx,
    )
    staff(engine)
    return decided(engine, ctx, "threat_to_life")


def events(engine: Engine, referral_id: int) -> list[Event]:
    with Session(engine) as s:
        return list(
            s.scalars(
                select(Event).where(Event.subject == f"referral:{referral_id}").order_by(Event.seq)
            )
        )


def referral(engine: Engine, referral_id: int) -> Referral:
    with Session(engine) as s:
        r = s.get(Referral, referral_id)
        assert r is not None
        return r


def assert_projection(engine: Engine, referral_id: int) -> None:
    status = referral_status(as_reducer_input(events(engine, referral_id)))
    assert status is not None
    assert status.value == referral(engine, referral_id).status


def later(hours: float = 0) -> Any:
    """A clock some hours after now (ingest and decisions run on the wall clock)."""
    moment = datetime.now(UTC) + timedelta(hours=hours)
    return lambda: moment
