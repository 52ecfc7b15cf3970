"""Platform unique identifiers: handed out once, remembered forever.

The transparency database refuses a PUID it already holds, and a PUID reused for
a different decision would make the public record point at the wrong one. Every
PUID is recorded in ``statement_puids`` (no foreign key, never deleted) in the
same transaction as its statement, so even a statement whose row is gone keeps
its PUID out of circulation.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from vigil.statements import builder
from vigil.statements.models import IssuedPuid
from vigil.unit_of_work import UnitOfWork

_ATTEMPTS = 20


def was_issued(uow: UnitOfWork, puid: str) -> bool:
    return uow.session.scalar(select(IssuedPuid.puid).where(IssuedPuid.puid == puid)) is not None


def claim(uow: UnitOfWork, candidate: str, fresh: Callable[[], str] | None = None) -> str:
    """Record ``candidate``, or a fresh PUID if it was ever issued; returns the one recorded."""
    make = fresh or builder.new_puid
    puid = candidate
    for _ in range(_ATTEMPTS):
        if not was_issued(uow, puid):
            uow.session.add(IssuedPuid(puid=puid, issued_at=uow.now()))
            uow.session.flush()
            return puid
        puid = make()
    raise RuntimeError("could not find an unused PUID")  # a broken generator, not chance
