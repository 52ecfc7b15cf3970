"""Activating a policy stores its exact text once, keyed by SHA-256, and audits it once."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from vigil.audit.models import Event
from vigil.audit.services import verify
from vigil.policy import services
from vigil.policy.defaults import default_policy_text
from vigil.policy.models import PolicyVersion
from vigil.policy.services import activate, load_active
from vigil.policy.validate import PolicyError
from vigil.unit_of_work import UnitOfWork, unit_of_work

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
T1 = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)


def activated_events(engine: Engine) -> list[Event]:
    with Session(engine) as s:
        return list(
            s.scalars(select(Event).where(Event.type == "policy.activated").order_by(Event.seq))
        )


def version_count(engine: Engine) -> int:
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(PolicyVersion)) or 0)


def test_activate_stores_the_exact_text_and_records_one_event(engine: Engine) -> None:
    policy, text = load_active(None)
    with unit_of_work(engine, clock=lambda: T0) as uow:
        row = activate(uow, policy, text)
        row_id = row.id
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with Session(engine) as s:
        stored = s.get(PolicyVersion, row_id)
        assert stored is not None
        assert (stored.name, stored.version) == ("vigil-default", "2026.12.1")
        assert stored.sha256 == digest
        assert stored.source == text
        assert stored.activated_at == T0
        assert verify(s).ok
    [event] = activated_events(engine)
    assert event.subject == f"policy:{row_id}"
    body = json.loads(event.body)
    assert body["payload"] == {"name": "vigil-default", "version": "2026.12.1", "sha256": digest}


def test_activate_is_idempotent_by_sha(engine: Engine) -> None:
    policy, text = load_active(None)
    with unit_of_work(engine, clock=lambda: T0) as uow:
        first = activate(uow, policy, text).id
        assert activate(uow, policy, text).id == first  # same transaction
    with unit_of_work(engine, clock=lambda: T1) as uow:
        again = activate(uow, policy, text)
        assert again.id == first
        assert again.activated_at == T0  # the first activation is kept
    assert version_count(engine) == 1
    assert len(activated_events(engine)) == 1


def test_changed_text_is_a_new_version(engine: Engine) -> None:
    policy, text = load_active(None)
    edited = text + "\n# reviewed by the policy team\n"
    with unit_of_work(engine) as uow:
        first = activate(uow, policy, text).id
    with unit_of_work(engine) as uow:
        second = activate(uow, policy, edited).id
    assert second != first
    assert version_count(engine) == 2
    assert [e.subject for e in activated_events(engine)] == [f"policy:{first}", f"policy:{second}"]


def test_rolled_back_activation_leaves_nothing(engine: Engine) -> None:
    policy, text = load_active(None)

    def activate_then_fail() -> None:
        with unit_of_work(engine) as uow:
            activate(uow, policy, text)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        activate_then_fail()
    assert version_count(engine) == 0
    assert activated_events(engine) == []


def test_load_active_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    text = default_policy_text().replace("policy: vigil-default", "policy: mine")
    path.write_text(text, encoding="utf-8")
    policy, source = load_active(path)
    assert policy.policy == "mine"
    assert source == text


def test_load_active_default() -> None:
    policy, source = load_active(None)
    assert policy.policy == "vigil-default"
    assert source == default_policy_text()


def test_load_active_rejects_an_invalid_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(default_policy_text().replace("review: none", "review: never"), "utf-8")
    with pytest.raises(PolicyError) as caught:
        load_active(path)
    assert len(caught.value.issues) == 2
    assert all("'never' is not a review mode" in i.message for i in caught.value.issues)
    assert str(caught.value).startswith(f"{path}:")


def test_losing_a_race_returns_the_winners_row(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another worker stored the same text between our look-up and our insert."""
    policy, text = load_active(None)
    with unit_of_work(engine) as uow:
        winner = activate(uow, policy, text).id
    real_find = services._find
    calls: list[str] = []

    def stale_first_look(uow: UnitOfWork, digest: str) -> PolicyVersion | None:
        calls.append(digest)
        return None if len(calls) == 1 else real_find(uow, digest)

    monkeypatch.setattr(services, "_find", stale_first_look)
    with unit_of_work(engine) as uow:
        assert activate(uow, policy, text).id == winner
        assert uow.log.pending == 0
    assert len(calls) == 2
    assert version_count(engine) == 1
    assert len(activated_events(engine)) == 1
