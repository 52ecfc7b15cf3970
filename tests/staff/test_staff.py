"""Staff roles gate the steps that need them; every change of who may do what is an event."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from vigil.audit.models import Event
from vigil.cli import app
from vigil.staff.models import Role
from vigil.staff.services import StaffError, add_member, has_role, require_role, set_roles
from vigil.unit_of_work import unit_of_work


def test_roles_are_checked_by_name_whatever_the_case(engine: Engine) -> None:
    with unit_of_work(engine) as uow:
        add_member(uow, "Lena", [Role.LEGAL_OFFICER], by="root")
        add_member(uow, "alice", [Role.MODERATOR])
    with unit_of_work(engine) as uow:
        assert has_role(uow, " lena ", Role.LEGAL_OFFICER)
        assert not has_role(uow, "alice", Role.LEGAL_OFFICER)
        assert not has_role(uow, "mallory", Role.LEGAL_OFFICER)
        assert require_role(uow, "LENA", Role.LEGAL_OFFICER, to="approve a referral").name == "Lena"
        with pytest.raises(
            StaffError, match="alice' lacks the legal_officer role needed to approve"
        ):
            require_role(uow, "alice", Role.LEGAL_OFFICER, to="approve a referral")
        with pytest.raises(StaffError, match="'mallory' is not registered staff"):
            require_role(uow, "mallory", Role.LEGAL_OFFICER, to="approve a referral")
    with unit_of_work(engine) as uow:
        set_roles(uow, "alice", [Role.MODERATOR, Role.LEGAL_OFFICER], by="root")
    with unit_of_work(engine) as uow:
        assert has_role(uow, "alice", Role.LEGAL_OFFICER)
    with Session(engine) as s:
        logged = [
            (e.type, e.actor, json.loads(e.body)["payload"])
            for e in s.scalars(select(Event).where(Event.type.like("staff.%")).order_by(Event.seq))
        ]
    assert logged == [
        ("staff.added", "root", {"name": "Lena", "roles": ["legal_officer"]}),
        ("staff.added", "system", {"name": "alice", "roles": ["moderator"]}),
        ("staff.roles_changed", "root", {"name": "alice", "roles": ["legal_officer", "moderator"]}),
    ]


def test_duplicates_and_unknown_roles_are_refused(engine: Engine) -> None:
    with unit_of_work(engine) as uow:
        add_member(uow, "bob", [Role.SENIOR_MODERATOR])
    with (
        pytest.raises(StaffError, match="'BOB' is already a staff member"),
        unit_of_work(engine) as uow,
    ):
        add_member(uow, "BOB", [Role.MODERATOR])
    with (
        pytest.raises(StaffError, match="role: 'sheriff' is not one of"),
        unit_of_work(engine) as uow,
    ):
        add_member(uow, "carol", ["sheriff"])


def test_cli_adds_and_lists(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    added = runner.invoke(app, ["--db", url, "staff", "add", "lena", "--role", "legal_officer"])
    assert added.exit_code == 0, added.output
    again = runner.invoke(app, ["--db", url, "staff", "add", "Lena", "--role", "auditor"])
    assert again.exit_code == 1
    assert "already a staff member" in again.output
    listed = runner.invoke(app, ["--db", url, "staff", "list"])
    assert "legal_officer" in listed.output
