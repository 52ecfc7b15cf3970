"""Submitting statements of reasons to the EU transparency database.

Pending statements go in batches of at most 100 to ``POST {base}/api/v1/statements``.
Only HTTP 201 means created. The endpoint is all-or-nothing, so a 422 is read
statement by statement (``errors.statement_<i>``): a PUID the database already
holds is done (an earlier run was accepted but not recorded here), a statement
with field errors is marked rejected and left out, and the rest are sent again.
429 waits (``Retry-After`` when given); 5xx and connection errors back off
exponentially with jitter and a cap, then the run stops and leaves the batch
pending for the next one.

State is committed per batch, so a run can be stopped at any point: nothing is
lost, and a statement the database accepted is never created twice, because a
resend is answered with the duplicate PUID. The token comes from the caller (the
CLI reads an environment variable) and is never logged, stored or put in an
event or an exception.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from vigil.db.base import utcnow
from vigil.statements.export import (
    BATCH_SIZE,
    Prepared,
    Problem,
    count_statements,
    prepare,
    statements_query,
)
from vigil.statements.models import StatementOfReasons
from vigil.statements.reducer import PENDING, REJECTED, SUBMITTED
from vigil.unit_of_work import UnitOfWork, unit_of_work

log = logging.getLogger(__name__)

DEFAULT_TOKEN_ENV = "VIGIL_TDB_TOKEN"  # noqa: S105 (the variable's name, not a token)
BATCH_PATH = "/api/v1/statements"
EXISTING_PATH = "/api/v1/statement/existing-puid/"
_INDEX_KEY = re.compile(r"statement_(\d+)")


class SubmitError(Exception):
    """The run cannot go on at all (for example the token is refused)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying one batch before leaving it for the next run."""

    max_attempts: int = 6  # 5xx and connection errors, per batch
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_rate_limited: int = 30  # 429 answers, per batch
    max_retry_after: float = 300.0


@dataclass
class SubmitReport:
    submitted: dict[str, str | None] = field(default_factory=dict)  # puid -> uuid, created now
    already_held: dict[str, str | None] = field(default_factory=dict)  # duplicate PUID: done
    rejected: dict[str, list[str]] = field(default_factory=dict)  # puid -> fields
    invalid: list[Problem] = field(default_factory=list)  # failed our own checks; not sent
    scrubbed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    requests: int = 0
    waits: list[float] = field(default_factory=list)
    gave_up: str | None = None  # why the run stopped early, leaving statements pending
    left_pending: int = 0

    @property
    def done(self) -> int:
        return len(self.submitted) + len(self.already_held)

    @property
    def ok(self) -> bool:
        return self.gave_up is None and not self.rejected and not self.invalid


@dataclass(frozen=True)
class _Answer:
    """What a 422 says about each statement of the batch sent."""

    held: dict[str, str | None]  # puid -> uuid (None when the answer gives none)
    rejected: dict[str, list[str]]


class _GiveUpError(Exception):
    pass


def base_url(endpoint: str) -> str:
    """The API base from what a user types: with or without the batch path, no trailing slash."""
    url = endpoint.strip().rstrip("/")
    if url.endswith(BATCH_PATH):
        url = url[: -len(BATCH_PATH)]
    parts = httpx.URL(url)
    if parts.scheme not in ("http", "https") or not parts.host:
        raise ValueError(f"endpoint: {endpoint!r} is not an http(s) URL")
    return url


class Submitter:
    """Sends pending statements; one instance per run."""

    def __init__(
        self,
        engine: Engine,
        endpoint: str,
        token: str,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
        jitter: Callable[[], float] = random.random,
        retry: RetryPolicy = RetryPolicy(),
        batch_size: int = BATCH_SIZE,
        timeout: float = 30.0,
        actor: str = "system",
    ) -> None:
        if not token:
            raise ValueError("token: empty")
        if not 1 <= batch_size <= BATCH_SIZE:
            raise ValueError(f"batch_size: {batch_size} is outside 1..{BATCH_SIZE}")
        self._engine = engine
        self._base = base_url(endpoint)
        self.__token = token
        self._own_client = client is None
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._retry = retry
        self._batch_size = batch_size
        self._actor = actor

    def __repr__(self) -> str:  # never the token
        return f"Submitter(endpoint={self._base!r})"

    @property
    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.__token}",
            "Accept": "application/json",
        }

    def close(self) -> None:
        if self._own_client:
            self._client.close()

    def __enter__(self) -> Submitter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the run ---------------------------------------------------------------

    def run(self, progress: Callable[[int], None] | None = None) -> SubmitReport:
        """Submit every pending statement, batch by batch, until none is left or a batch fails."""
        report = SubmitReport()
        skipped: set[int] = set()
        while True:
            batch = self._next_batch(skipped, report)
            if batch is None:
                break
            if not batch:
                continue
            try:
                self._send(batch, report)
            except _GiveUpError as stop:
                report.gave_up = str(stop)
                log.warning("transparency database: giving up for this run: %s", stop)
                break
            if progress is not None:
                progress(len(batch))
        with Session(self._engine) as session:
            report.left_pending = count_statements(session, unsubmitted=True)
        return report

    def _next_batch(self, skipped: set[int], report: SubmitReport) -> list[Prepared] | None:
        """The next pending statements that pass our own checks; None when nothing is pending."""
        query = statements_query(unsubmitted=True)
        if skipped:
            query = query.where(StatementOfReasons.id.not_in(skipped))
        with Session(self._engine) as session:
            rows = list(session.scalars(query.limit(self._batch_size)))
            if not rows:
                return None
            prepared = [prepare(session, row) for row in rows]
        ready: list[Prepared] = []
        for p in prepared:
            if p.scrubbed:
                report.scrubbed[p.puid] = p.scrubbed
            if p.ok:
                ready.append(p)
            else:
                skipped.add(p.statement_id)
                report.invalid.extend(p.problems)
        return ready

    def _send(self, batch: list[Prepared], report: SubmitReport) -> None:
        pending = list(batch)
        failures = 0
        limited = 0
        while pending:
            report.requests += 1
            try:
                response = self._client.post(
                    self._base + BATCH_PATH,
                    json={"statements": [p.body for p in pending]},
                    headers=self._headers,
                )
            except httpx.TransportError as exc:
                failures += 1
                self._back_off(failures, f"connection error ({type(exc).__name__})", report)
                continue
            status = response.status_code
            log.info("transparency database: %d statement(s) -> HTTP %d", len(pending), status)
            if status == 201:
                self._record_created(pending, _json(response), report)
                return
            if status == 422:
                answer = self._read_422(pending, _json(response))
                if not answer.held and not answer.rejected:
                    raise _GiveUpError("HTTP 422 that names no statement; the batch stays pending")
                self._record_answer(pending, answer, report)
                pending = [
                    p
                    for p in pending
                    if p.puid not in answer.held and p.puid not in answer.rejected
                ]
                continue
            if status == 429:
                limited += 1
                if limited > self._retry.max_rate_limited:
                    raise _GiveUpError(f"still rate-limited after {limited - 1} wait(s)")
                wait = self._retry_after(response) or self._delay(limited)
                self._wait(wait, report)
                continue
            if status in (401, 403):
                raise SubmitError(f"the transparency database refused the token (HTTP {status})")
            if status >= 500:
                failures += 1
                self._back_off(failures, f"HTTP {status}", report)
                continue
            raise _GiveUpError(f"unexpected HTTP {status} from the transparency database")

    # -- waiting ---------------------------------------------------------------

    def _delay(self, attempt: int) -> float:
        """Exponential backoff with jitter: half fixed, half random, never above the cap."""
        ceiling = min(self._retry.max_delay, self._retry.base_delay * 2.0 ** (attempt - 1))
        return ceiling / 2 + ceiling / 2 * self._jitter()

    def _back_off(self, failures: int, reason: str, report: SubmitReport) -> None:
        if failures >= self._retry.max_attempts:
            raise _GiveUpError(f"{reason} after {failures} attempt(s)")
        self._wait(self._delay(failures), report)

    def _wait(self, seconds: float, report: SubmitReport) -> None:
        report.waits.append(seconds)
        self._sleep(seconds)

    def _retry_after(self, response: httpx.Response) -> float | None:
        value = response.headers.get("Retry-After")
        if not value:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = (parsedate_to_datetime(value) - self._clock()).total_seconds()
            except (TypeError, ValueError):
                return None
        return min(max(seconds, 0.0), self._retry.max_retry_after)

    # -- reading answers -------------------------------------------------------

    def _read_422(self, pending: Sequence[Prepared], data: Mapping[str, Any]) -> _Answer:
        """Which statements the database already holds, and which it refused, by field."""
        errors = data.get("errors")
        errors = errors if isinstance(errors, Mapping) else {}
        held: dict[str, str | None] = {}
        for record in _records(data.get("existing")):
            if isinstance(record.get("puid"), str):
                held[record["puid"]] = _uuid(record)
        for puid in errors.get("existing_puids") or []:
            if isinstance(puid, str):
                held.setdefault(puid, None)
        rejected: dict[str, list[str]] = {}
        for key, detail in errors.items():
            match = _INDEX_KEY.fullmatch(str(key))
            if match is None or int(match.group(1)) >= len(pending):
                continue
            puid = pending[int(match.group(1))].puid
            if not isinstance(detail, Mapping):
                rejected[puid] = ["statement"]
                continue
            existing = detail.get("existing")
            if isinstance(existing, Mapping):
                held[puid] = _uuid(existing)
            elif set(detail) == {"puid"} and "unique" in str(detail["puid"]).lower():
                held.setdefault(puid, None)
            else:
                rejected[puid] = sorted(str(k) for k in detail)
        ours = {p.puid for p in pending}
        held = {puid: uuid for puid, uuid in held.items() if puid in ours}
        for puid, uuid in held.items():
            if uuid is None:
                held[puid] = self._lookup_uuid(puid)
        return _Answer(held, {k: v for k, v in rejected.items() if k not in held})

    def _lookup_uuid(self, puid: str) -> str | None:
        """The uuid the database gave a PUID it holds (best effort: None if it will not say)."""
        try:
            response = self._client.get(
                self._base + EXISTING_PATH + quote(puid, safe=""), headers=self._headers
            )
        except httpx.TransportError:
            return None
        if response.status_code not in (200, 302):
            return None
        return _uuid(_json(response))

    # -- recording -------------------------------------------------------------

    def _record_created(
        self, pending: Sequence[Prepared], data: Mapping[str, Any], report: SubmitReport
    ) -> None:
        """Mark the batch submitted; uuids matched by PUID (the answer's order is not promised)."""
        returned = [r for r in _records(data.get("statements")) if isinstance(r, Mapping)]
        by_puid = {r["puid"]: _uuid(r) for r in returned if isinstance(r.get("puid"), str)}
        uuids: dict[str, str | None] = {}
        for index, p in enumerate(pending):
            if p.puid in by_puid:
                uuids[p.puid] = by_puid[p.puid]
            elif not by_puid and index < len(returned):
                uuids[p.puid] = _uuid(returned[index])
            else:
                uuids[p.puid] = None
        self._mark_submitted(pending, uuids)
        report.submitted.update(uuids)

    def _record_answer(
        self, pending: Sequence[Prepared], answer: _Answer, report: SubmitReport
    ) -> None:
        held = [p for p in pending if p.puid in answer.held]
        refused = [p for p in pending if p.puid in answer.rejected]
        with unit_of_work(self._engine, clock=self._clock) as uow:
            for p in held:
                if self._set(uow, p, SUBMITTED, uuid=answer.held[p.puid]):
                    report.already_held[p.puid] = answer.held[p.puid]
            for p in refused:
                if self._set(uow, p, REJECTED, fields=answer.rejected[p.puid]):
                    report.rejected[p.puid] = answer.rejected[p.puid]

    def _mark_submitted(self, pending: Sequence[Prepared], uuids: Mapping[str, str | None]) -> None:
        """Commit the whole batch as submitted, in one transaction."""
        with unit_of_work(self._engine, clock=self._clock) as uow:
            for p in pending:
                self._set(uow, p, SUBMITTED, uuid=uuids[p.puid])

    def _set(
        self,
        uow: UnitOfWork,
        prepared: Prepared,
        status: str,
        *,
        uuid: str | None = None,
        fields: list[str] | None = None,
    ) -> bool:
        """Move one pending statement on and log it; False if another run got there first."""
        row = uow.session.scalar(
            select(StatementOfReasons)
            .where(StatementOfReasons.id == prepared.statement_id)
            .with_for_update()
        )
        if row is None or row.submission_status != PENDING:
            return False
        subject = f"statement:{row.id}"
        if status == SUBMITTED:
            row.submission_status = SUBMITTED
            row.tdb_uuid = uuid
            row.submitted_at = uow.now()
            uow.log.record(
                "statement.submitted", subject, {"puid": row.puid, "uuid": uuid}, actor=self._actor
            )
        else:
            row.submission_status = REJECTED
            row.rejected_fields = list(fields or [])
            uow.log.record(
                "statement.rejected",
                subject,
                {"puid": row.puid, "fields": list(fields or [])},
                actor=self._actor,
            )
        return True


def _json(response: httpx.Response) -> Mapping[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, Mapping) else {}


def _records(value: Any) -> list[Mapping[str, Any]]:
    """A list of JSON objects from an object or a list of them."""
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, Mapping)]
    return []


def _uuid(record: Mapping[str, Any]) -> str | None:
    value = record.get("uuid")
    return str(value) if isinstance(value, str) and value else None


def submit_pending(
    engine: Engine,
    endpoint: str,
    token: str,
    **options: Any,
) -> SubmitReport:
    """Submit every pending statement (see :class:`Submitter` for the options)."""
    with Submitter(engine, endpoint, token, **options) as submitter:
        return submitter.run()
