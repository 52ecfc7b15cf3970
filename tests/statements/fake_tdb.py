"""A local stand-in for the EU transparency database API, on a real HTTP port.

It answers ``POST /api/v1/statements`` the way the documented API does: 401 on a
bad token, 422 with errors keyed ``statement_<index>`` when any statement fails
the reference schema (nothing is stored: all or nothing), 422 naming the PUIDs it
already holds, and 201 with a uuid per statement. ``GET
/api/v1/statement/existing-puid/<puid>`` answers 302 with the stored statement or
404. Scripted answers (429, 5xx, a dropped connection, or accepting and then
dropping the connection) are served first, one per batch request.

Three spellings of "already held" exist in the wild, chosen by ``duplicate_form``:
``existing`` (the documented form: the stored statement(s) under ``existing``),
``existing_puids`` (what the batch endpoint sends: ``errors.existing_puids``, no
uuids) and ``per_statement`` (``errors.statement_<i>.existing``).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal
from urllib.parse import unquote

from tests.statements.sor_checker import SchemaChecker
from tests.support.loopback import LoopbackServer

DuplicateForm = Literal["existing", "existing_puids", "per_statement"]
NOT_UNIQUE = "The identifier given is not unique within this platform."


@dataclass(frozen=True)
class Step:
    """One scripted answer: an HTTP status, ``drop`` (no answer), ``accept_then_drop``, or
    ``Step()``: answer this request normally."""

    status: int | None = None
    drop: bool = False
    accept: bool = False  # with drop: store the batch, then lose the answer
    retry_after: str | None = None


DROP = Step(drop=True)
ACCEPT_THEN_DROP = Step(drop=True, accept=True)


@dataclass
class Seen:
    method: str
    path: str
    authorization: str | None
    puids: list[str] = field(default_factory=list)
    status: int | None = None  # None: the connection was dropped


class FakeTransparencyDatabase(LoopbackServer):
    methods = ("POST", "GET")

    def __init__(
        self,
        checker: SchemaChecker,
        *,
        token: str = "tdb-test-token",  # noqa: S107
        duplicate_form: DuplicateForm = "existing",
        reverse_created: bool = True,
    ) -> None:
        super().__init__()
        self.checker = checker
        self.token = token
        self.duplicate_form = duplicate_form
        # The real endpoint reads the created rows back from its database, so their order is
        # not the order sent; answering in reverse keeps clients from relying on it.
        self.reverse_created = reverse_created
        self.held: dict[str, dict[str, Any]] = {}  # puid -> stored statement
        # puid -> field errors from a rule of the database's that the client does not check.
        self.refuse: dict[str, dict[str, list[str]]] = {}
        self.script: deque[Step] = deque()
        self.seen: list[Seen] = []
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------

    def then(self, *steps: Step | int) -> None:
        """Serve these answers to the next batch requests, in order, before normal service."""
        with self._lock:
            self.script.extend(s if isinstance(s, Step) else Step(status=s) for s in steps)

    @property
    def batch_requests(self) -> list[Seen]:
        return [s for s in self.seen if s.method == "POST"]

    # -- handling --------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        seen = Seen(method, request.path, request.headers.get("Authorization"))
        with self._lock:
            self.seen.append(seen)
            status, body, headers = self._answer(method, request.path, raw, seen)
        seen.status = status
        if status is None:
            request.close_connection = True  # no answer at all: the client sees a dropped line
            return
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)

    def _answer(
        self, method: str, path: str, raw: bytes, seen: Seen
    ) -> tuple[int | None, dict[str, Any], dict[str, str]]:
        if seen.authorization != f"Bearer {self.token}":
            return 401, {"message": "Unauthenticated."}, {}
        if method == "GET" and path == "/api/ping":
            return 200, {"you_say": "ping", "i_say": "pong"}, {}
        prefix = "/api/v1/statement/existing-puid/"
        if method == "GET" and path.startswith(prefix):
            puid = unquote(path[len(prefix) :])
            if puid in self.held:
                return 302, self.held[puid], {}
            return 404, {"message": "statement of reason not found", "puid": puid}, {}
        if method != "POST" or path != "/api/v1/statements":
            return 404, {"message": "Not Found"}, {}
        try:
            payload = json.loads(raw)
        except ValueError:
            return 400, {"message": "malformed JSON"}, {}
        statements = payload.get("statements") if isinstance(payload, dict) else None
        if not isinstance(statements, list) or not 1 <= len(statements) <= 100:
            return (
                422,
                _errors({"statements": ["The statements must have between 1 and 100 items."]}),
                {},
            )
        seen.puids = [str(s.get("puid")) for s in statements if isinstance(s, dict)]
        step = self.script.popleft() if self.script else Step()
        if step.status is not None or step.drop:
            if step.accept:
                self._store(statements)
            if step.drop:
                return None, {}, {}
            headers = {"Retry-After": step.retry_after} if step.retry_after else {}
            message = (
                "Limit Reached. Please do not overload the API"
                if step.status == 429
                else "Server Error"
            )
            assert step.status is not None
            return step.status, {"message": message}, headers
        return self._batch(statements)

    def _batch(self, statements: list[Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        errors: dict[str, Any] = {}
        for index, statement in enumerate(statements):
            problems = (
                self.checker.check(statement)
                if isinstance(statement, dict)
                else ["statement: not an object"]
            )
            by_field: dict[str, list[str]] = {}
            for problem in problems:
                name, _, message = problem.partition(": ")
                by_field.setdefault(name, []).append(message)
            puid = statement.get("puid") if isinstance(statement, dict) else None
            for name, messages in self.refuse.get(str(puid), {}).items():
                by_field.setdefault(name, []).extend(messages)
            if self.duplicate_form == "per_statement" and puid in self.held:
                by_field = {"puid": [NOT_UNIQUE], "existing": self.held[puid]}  # type: ignore[dict-item]
            if by_field:
                errors[f"statement_{index}"] = by_field
        if errors:
            return 422, {"message": "The statements could not be validated.", "errors": errors}, {}
        puids = [s["puid"] for s in statements]
        if len(set(puids)) != len(puids):
            message = "The platform identifier(s) are not all unique within this call."
            return 422, _errors({"puid": [message]}, message), {}
        existing = [p for p in puids if p in self.held]
        if existing:
            message = "the platform identifier(s) given are not all unique within this platform."
            out = _errors({"puid": [message], "existing_puids": existing}, message)
            if self.duplicate_form == "existing":
                records = [self.held[p] for p in existing]
                out["existing"] = records[0] if len(records) == 1 else records
            return 422, out, {}
        created = self._store(statements)
        if self.reverse_created:
            created = created[::-1]
        return 201, {"statements": created}, {}

    def _store(self, statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        created = []
        for statement in statements:
            record = {
                **statement,
                "uuid": str(uuid.uuid4()),
                "created_at": "2025-07-01 12:00:00",
                "platform_name": "Vigil test platform",
            }
            record["self"] = f"/api/v1/statement/{record['uuid']}"
            record["permalink"] = f"/statement/{record['uuid']}"
            self.held[statement["puid"]] = record
            created.append(record)
        return created


def _errors(errors: dict[str, Any], message: str | None = None) -> dict[str, Any]:
    return {"message": message or "The given data was invalid.", "errors": errors}


@contextmanager
def running(checker: SchemaChecker, **options: Any) -> Iterator[FakeTransparencyDatabase]:
    fake = FakeTransparencyDatabase(checker, **options).start()
    try:
        yield fake
    finally:
        fake.stop()
