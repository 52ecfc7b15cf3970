"""One transaction that carries both state changes and their audit events.

Every service takes a :class:`UnitOfWork`; leaving the ``with`` block flushes the
buffered events into the log and commits both together, or rolls both back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from vigil.audit.services import AuditLog
from vigil.db.base import utcnow
from vigil.db.engine import writer


class UnitOfWork:
    def __init__(self, session: Session, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.clock = clock
        self.log = AuditLog(session, clock)

    def now(self) -> datetime:
        return self.clock()


@contextmanager
def unit_of_work(engine: Engine, clock: Callable[[], datetime] = utcnow) -> Iterator[UnitOfWork]:
    with Session(writer(engine), expire_on_commit=False, autoflush=True) as session:
        uow = UnitOfWork(session, clock)
        try:
            yield uow
            session.flush()
            uow.log.flush()
            session.commit()
        except BaseException:
            uow.log.discard()
            session.rollback()
            raise
