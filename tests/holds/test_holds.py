"""Legal holds keep data through retention and erasure until they lapse or are released."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.support.enforcement import Clock, account, default_policy, post
from vigil.audit.models import Event
from vigil.cli import app
from vigil.holds import services as holds
from vigil.items.models import Account, Item, ScanState
from vigil.retention.services import request_erasure, sweep, sweep_erasures
from vigil.staff.models import Role
from vigil.staff.services import add_member
from vigil.unit_of_work import unit_of_work


def _scanned_posts(engine: Engine, clock: Clock, pid: str, n: int) -> tuple[int, list[int]]:
    with unit_of_work(engine, clock=clock) as uow:
        who = account(uow, pid)
        ids = []
        for k in range(n):
            row = post(uow, who, f"{pid}-p{k}")
            row.scan_state = ScanState.SCANNED.value
            row.scanned_at = uow.now()
            ids.append(row.id)
        return who.id, ids


def _kept(engine: Engine, ids: list[int]) -> list[int]:
    with Session(engine) as s:
        rows = s.scalars(select(Item).where(Item.id.in_(ids), Item.text.is_not(None)))
        return sorted(r.id for r in rows)


def _payloads(engine: Engine, type_: str) -> list[dict[str, Any]]:
    with Session(engine) as s:
        bodies = s.scalars(select(Event.body).where(Event.type == type_).order_by(Event.seq))
        return [json.loads(b)["payload"] for b in bodies]


def test_retention_skips_held_items_until_the_hold_lapses(engine: Engine) -> None:
    clock = Clock()
    policy = default_policy()  # unmatched content: dropped at once
    held_account, held_items = _scanned_posts(engine, clock, "acct-held", 2)
    _, free_items = _scanned_posts(engine, clock, "acct-free", 2)
    with unit_of_work(engine, clock=clock) as uow:
        holds.place(
            uow,
            account_id=held_account,
            source="referral:1",
            legal_basis="18 U.S.C. 2258A(h)",
            duration=timedelta(days=365),
            by="lena",
        )
    with unit_of_work(engine, clock=clock) as uow:
        assert sweep(uow, policy) == 2
    assert _kept(engine, held_items + free_items) == held_items
    clock.advance(days=365)
    with unit_of_work(engine, clock=clock) as uow:
        assert [h.account_id for h in holds.sweep_lapsed(uow)] == [held_account]
        assert sweep(uow, policy) == 2
    assert _kept(engine, held_items) == []
    assert [p["source"] for p in _payloads(engine, "hold.placed")] == ["referral:1"]
    assert len(_payloads(engine, "hold.lapsed")) == 1


def test_an_item_hold_protects_that_item_only(engine: Engine) -> None:
    clock = Clock()
    account_id, (kept, other) = _scanned_posts(engine, clock, "acct-1", 2)
    with unit_of_work(engine, clock=clock) as uow:
        holds.place(
            uow,
            account_id=account_id,
            item_id=kept,
            source="request:4",
            legal_basis="Preservation request",
            duration=timedelta(days=90),
            by="lena",
        )
        assert holds.held_item_ids(uow, [kept, other]) == {kept}
        assert not holds.account_held(uow, account_id)


def test_erasure_waits_for_the_hold_then_completes(engine: Engine) -> None:
    clock = Clock()
    account_id, items = _scanned_posts(engine, clock, "acct-e", 2)
    _, bystander = _scanned_posts(engine, clock, "acct-b", 1)
    with unit_of_work(engine, clock=clock) as uow:
        hold = holds.place(
            uow,
            account_id=account_id,
            item_id=items[0],
            source="referral:2",
            legal_basis="Regulation (EU) 2021/784 Art. 6",
            duration=timedelta(days=183),
            by="lena",
        )
        hold_id = hold.id
    with unit_of_work(engine, clock=clock) as uow:
        account_row = request_erasure(uow, "acct-e", by="dpo")
        assert account_row.erased_at is None
    assert _kept(engine, items + bystander) == [items[0], *bystander]
    with Session(engine) as s:
        row = s.get(Account, account_id)
        assert row is not None
        assert row.handle == "@acct-e"  # personal data stays while held
    # The authority extends the hold; the erasure keeps waiting.
    with unit_of_work(engine, clock=clock) as uow:
        holds.extend(
            uow, hold_id, until=clock() + timedelta(days=200), by="lena", reason="NCA request"
        )
    clock.advance(days=190)
    with unit_of_work(engine, clock=clock) as uow:
        assert sweep_erasures(uow) == 0
    clock.advance(days=11)
    with unit_of_work(engine, clock=clock) as uow:
        assert sweep_erasures(uow) == 1
    assert _kept(engine, items + bystander) == bystander
    with Session(engine) as s:
        row = s.get(Account, account_id)
        assert row is not None
        assert (row.handle, row.registered_at) == (None, None)
        assert row.erased_at is not None
    assert [p["items_erased"] for p in _payloads(engine, "account.erased")] == [1]
    assert _payloads(engine, "account.erasure_withheld") == [{"items_erased": 1, "items_held": 1}]


def test_holds_refuse_bad_changes(engine: Engine) -> None:
    clock = Clock()
    account_id, _ = _scanned_posts(engine, clock, "acct-x", 1)
    with unit_of_work(engine, clock=clock) as uow:
        with pytest.raises(holds.HoldError, match="legal_basis"):
            holds.place(
                uow,
                account_id=account_id,
                source="x",
                legal_basis=" ",
                duration=timedelta(days=1),
                by="lena",
            )
        hold = holds.place(
            uow,
            account_id=account_id,
            source="x",
            legal_basis="order",
            duration=timedelta(days=10),
            by="lena",
        )
        with pytest.raises(holds.HoldError, match="not after the current end"):
            holds.extend(uow, hold.id, until=clock() + timedelta(days=5), by="lena", reason="r")
        holds.release(uow, hold.id, by="lena", reason="authority withdrew the request")
        assert not holds.account_held(uow, account_id)
        with pytest.raises(holds.HoldError, match="already ended"):
            holds.release(uow, hold.id, by="lena", reason="again")


def test_cli_extends_only_for_a_legal_officer(engine: Engine) -> None:
    clock = Clock()
    account_id, _ = _scanned_posts(engine, clock, "acct-c", 1)
    with unit_of_work(engine) as uow:
        add_member(uow, "lena", [Role.LEGAL_OFFICER])
        add_member(uow, "alice", [Role.MODERATOR])
        hold_id = holds.place(
            uow,
            account_id=account_id,
            source="referral:9",
            legal_basis="18 U.S.C. 2258A(h)",
            duration=timedelta(days=365),
            by="lena",
        ).id
    url = engine.url.render_as_string(hide_password=False)
    args = ["--db", url, "hold", "extend", str(hold_id), "--until", "2099-01-01", "--reason", "r"]
    refused = CliRunner().invoke(app, [*args, "--by", "alice"])
    assert refused.exit_code == 1
    assert "lacks the legal_officer role" in refused.output
    done = CliRunner().invoke(app, [*args, "--by", "lena"])
    assert done.exit_code == 0, done.output
    assert "until 2099-01-01" in done.output
    listed = CliRunner().invoke(app, ["--db", url, "hold", "list"])
    assert "referral:9" in listed.output
    assert "in force" in listed.output
