"""PUIDs are stable for a statement and never handed out twice, even after its row is gone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.statements.seed import NOW, seed_statements, stored
from vigil.actions.models import Action
from vigil.items.models import Account
from vigil.policy.schema import StatementConfig
from vigil.statements import builder, services
from vigil.statements.export import export_statements
from vigil.statements.models import IssuedPuid, StatementOfReasons
from vigil.statements.services import issue_for_action
from vigil.unit_of_work import unit_of_work


def _registry(engine: Engine) -> set[str]:
    with Session(engine) as s:
        return set(s.scalars(select(IssuedPuid.puid)))


def _scripted(values: list[str], fallback: Callable[[], str]) -> Callable[[], str]:
    queue: Iterator[str] = iter(values)
    return lambda: next(queue, None) or fallback()


def test_every_issued_puid_is_recorded(engine: Engine) -> None:
    puids = seed_statements(engine, 3)
    assert _registry(engine) == set(puids)
    assert len(set(puids)) == 3


def test_reissuing_for_the_same_action_keeps_the_puid(engine: Engine) -> None:
    [puid] = seed_statements(engine, 1)
    row = stored(engine, puid)
    with unit_of_work(engine, clock=lambda: NOW) as uow:
        action = uow.session.get_one(Action, row.action_id)
        again = issue_for_action(
            uow,
            action=action,
            item=None,
            account=uow.session.get_one(Account, action.account_id),
            statement=StatementConfig(
                category="STATEMENT_CATEGORY_VIOLENCE",
                ground="incompatible",
                terms_clause="other clause",
                explanation="other explanation",
            ),
            category_title="Something else",
            rule_id=None,
            automated_detection=True,
            automated_decision="fully",
        )
    assert again is not None
    assert again.puid == puid
    assert stored(engine, puid).body == row.body
    assert _registry(engine) == {puid}


def test_reexporting_keeps_every_puid_and_byte(engine: Engine, tmp_path: Path) -> None:
    puids = seed_statements(engine, 5)
    with Session(engine) as s:
        first = export_statements(s, tmp_path / "a")
    with Session(engine) as s:
        second = export_statements(s, tmp_path / "b")
    assert [p.name for p in first.files] == [p.name for p in second.files]
    for a, b in zip(first.files, second.files, strict=True):
        assert a.read_bytes() == b.read_bytes()
    assert puids[0] in first.files[0].read_text()


def test_a_deleted_statements_puid_is_never_issued_again(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    [old] = seed_statements(engine, 1)
    row = stored(engine, old)
    with Session(engine) as s, s.begin():
        s.execute(delete(StatementOfReasons).where(StatementOfReasons.id == row.id))
        s.execute(delete(Action).where(Action.id == row.action_id))
    assert old in _registry(engine)  # the registry outlives the statement

    # A generator that offers the old PUID again (twice) before a fresh one.
    fresh = builder.new_puid()
    scripted = _scripted([old, old, fresh], builder.new_puid)
    monkeypatch.setattr(services, "new_puid", scripted)
    monkeypatch.setattr(builder, "new_puid", scripted)
    [new] = seed_statements(engine, 1)
    assert new == fresh
    assert new != old
    assert stored(engine, new).body["puid"] == new
    assert _registry(engine) == {old, new}


def test_a_puid_still_in_use_is_not_handed_out_again(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    [kept] = seed_statements(engine, 1)
    fresh = builder.new_puid()
    scripted = _scripted([kept, fresh], builder.new_puid)
    monkeypatch.setattr(services, "new_puid", scripted)
    monkeypatch.setattr(builder, "new_puid", scripted)
    [new] = seed_statements(engine, 1)
    assert new == fresh
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(StatementOfReasons)) == 2


def test_the_database_refuses_a_recorded_puid_twice(engine: Engine) -> None:
    [puid] = seed_statements(engine, 1)
    with pytest.raises(IntegrityError), Session(engine) as s, s.begin():
        s.add(IssuedPuid(puid=puid, issued_at=NOW))
