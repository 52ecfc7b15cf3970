"""Figures per authority and country, from stored requests."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.authorities.support import T0, FakeClock, add_account, add_staff, body, policy
from vigil.authorities import services
from vigil.authorities.figures import request_figures
from vigil.authorities.production import produce
from vigil.authorities.schemas import RequestIn
from vigil.unit_of_work import unit_of_work


def test_figures_per_authority_and_country(engine: Engine) -> None:
    add_staff(engine)
    add_account(engine, "acct-suspect", "suspect", created=T0.replace(month=9, day=5))
    clock = FakeClock()
    with unit_of_work(engine, clock=clock) as uow:
        late = RequestIn.model_validate(body(received_at=(T0 - timedelta(minutes=10)).isoformat()))
        good = services.intake(uow, late, policy=policy(), by="p").id
        services.intake(
            uow,
            RequestIn.model_validate(body(targets=[{"identifier_type": "username", "value": "*"}])),
            policy=policy(),
            by="p",
        )
        services.intake(
            uow,
            RequestIn.model_validate(
                body(
                    authority={"name": "Met Police", "country": "GB", "agency_type": "police"},
                    instrument=None,
                )
            ),
            policy=policy(),
            by="p",
        )
    with unit_of_work(engine, clock=clock) as uow:
        services.verify(uow, good, method="portal_identity", by="lena", evidence_ref="p")
        services.approve(uow, good, by="lena")
    clock.advance(hours=2)
    with unit_of_work(engine, clock=clock) as uow:
        produce(uow, good, by="lena")
    with Session(engine) as s:
        rows = request_figures(s, T0 - timedelta(days=1), T0 + timedelta(days=1))
        outside = request_figures(s, T0 + timedelta(days=1), T0 + timedelta(days=2))
    assert outside == []
    assert [(r.authority, r.country) for r in rows] == [
        ("Bundeskriminalamt", "DE"),
        ("Met Police", "GB"),
    ]
    de, gb = rows
    assert (de.requests, de.accounts_specified, de.share_some_data) == (2, 2, 0.5)
    assert dict(de.refusals) == {"broad_target": 1}
    assert de.median_ack_seconds == 300.0  # 600 s for the late one, 0 for the other
    assert de.median_effect_seconds == 2 * 3600 + 600
    assert (gb.requests, dict(gb.refusals), gb.share_some_data) == (
        1,
        {"no_legal_instrument": 1},
        0.0,
    )
    assert gb.median_effect_seconds is None
