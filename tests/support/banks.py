"""Helpers that build banks with their settings for matcher and bank tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from vigil.banks.formats import RawEntry
from vigil.banks.services import create_bank, import_entries
from vigil.signals.matchers import BankIndex
from vigil.unit_of_work import unit_of_work


def make_bank(
    engine: Engine,
    name: str,
    kind: str,
    category: str,
    values: Iterable[str | RawEntry],
    **settings: Any,
) -> int:
    """Create a bank with ``settings`` and import ``values``; returns the bank id."""
    raws = [
        v if isinstance(v, RawEntry) else RawEntry(line, v)
        for line, v in enumerate(values, start=1)
    ]
    with unit_of_work(engine) as uow:
        bank = create_bank(uow, name, kind=kind, category=category, source="test", **settings)
        result = import_entries(uow, bank, raws)
        assert not result.rejected, result.rejected
        return bank.id


def load_index(engine: Engine) -> BankIndex:
    with Session(engine) as session:
        return BankIndex.load(session)


def events(engine: Engine, type_prefix: str) -> list[tuple[str, str, dict[str, Any]]]:
    """``(type, subject, payload)`` of every event whose type starts with ``type_prefix``."""
    import json

    from sqlalchemy import select

    from vigil.audit.models import Event

    with Session(engine) as session:
        rows = session.execute(
            select(Event.type, Event.subject, Event.body)
            .where(Event.type.startswith(type_prefix))
            .order_by(Event.seq)
        )
        return [(t, s, json.loads(body)["payload"]) for t, s, body in rows]
