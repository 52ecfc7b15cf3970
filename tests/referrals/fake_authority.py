"""A local stand-in for the recipients of referrals, on a real HTTP port (127.0.0.1).

NCMEC side (HTTP Basic): ``POST /submit`` (a ``<report>``), ``/upload`` (multipart
``id`` and ``file``), ``/fileinfo`` (``<fileDetails>``), ``/finish`` (``id``),
answering ``reportResponse`` XML with ``responseCode`` 0. JSON side (Bearer):
``POST /referrals``. Both detect a repeat by its ``Idempotency-Key`` and answer
it with what they answered first, so a duplicate report is never created; they
count repeats so tests can see them. Scripted answers (a status, a dropped
connection, or storing the request and then dropping the answer) are served
first, one per POST.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tests.support.loopback import LoopbackServer


@dataclass(frozen=True)
class Step:
    status: int | None = None
    drop: bool = False
    accept: bool = False  # with drop: do the work, then lose the answer
    retry_after: str | None = None


DROP = Step(drop=True)
ACCEPT_THEN_DROP = Step(drop=True, accept=True)


@dataclass
class Report:
    report_id: str
    key: str
    xml: bytes
    files: dict[str, bytes] = field(default_factory=dict)  # fileId -> bytes
    details: dict[str, bytes] = field(default_factory=dict)  # fileId -> fileDetails XML
    finished: bool = False


class FakeAuthority(LoopbackServer):
    def __init__(
        self,
        *,
        username: str = "esp",
        password: str = "pw",  # noqa: S107 (a test credential)
        token: str = "tok",  # noqa: S107 (a test credential)
    ) -> None:
        super().__init__()
        self.basic = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.bearer = f"Bearer {token}"
        self.script: deque[Step] = deque()
        self.answers: dict[str, tuple[int, bytes, str]] = {}  # idempotency key -> first answer
        self.repeats: list[str] = []
        self.reports: dict[str, Report] = {}
        self.file_keys: dict[str, str] = {}
        self.json_referrals: dict[str, dict[str, Any]] = {}
        self.seen: list[tuple[str, str | None, str | None]] = []  # path, key, authorization
        self.retry_after: str | None = None  # sent with every 429
        self._lock = threading.Lock()

    def then(self, *steps: Step | int) -> None:
        with self._lock:
            self.script.extend(s if isinstance(s, Step) else Step(status=s) for s in steps)

    # -- handling ------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        key = request.headers.get("Idempotency-Key")
        auth = request.headers.get("Authorization")
        with self._lock:
            self.seen.append((request.path, key, auth))
            answer = self._answer(request, raw, key, auth)
        if answer is None:
            request.close_connection = True
            return
        status, body, ctype = answer
        request.send_response(status)
        if status == 429 and self.retry_after:
            request.send_header("Retry-After", self.retry_after)
        request.send_header("Content-Type", ctype)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def _answer(
        self, request: BaseHTTPRequestHandler, raw: bytes, key: str | None, auth: str | None
    ) -> tuple[int, bytes, str] | None:
        path = request.path
        is_json = path == "/referrals"
        if auth != (self.bearer if is_json else self.basic):
            return 401, b"unauthorised", "text/plain"
        step = self.script.popleft() if self.script else Step()
        if step.status is not None:
            return step.status, b"scripted", "text/plain"
        if step.drop and not step.accept:
            return None
        if key is not None and key in self.answers:
            self.repeats.append(key)
            return self.answers[key]
        answer = self._work(path, raw, request.headers.get("Content-Type", ""), key)
        if key is not None and answer[0] < 300:
            self.answers[key] = answer
        return None if step.drop else answer

    def _work(self, path: str, raw: bytes, ctype: str, key: str | None) -> tuple[int, bytes, str]:
        if path == "/referrals":
            body = json.loads(raw)
            ref_id = f"art18-{len(self.json_referrals) + 1}"
            self.json_referrals[ref_id] = body
            return 201, json.dumps({"id": ref_id}).encode(), "application/json"
        if path == "/submit":
            ET.fromstring(raw)  # noqa: S314 (test input)
            report_id = str(1000 + len(self.reports))
            self.reports[report_id] = Report(report_id, str(key), raw)
            return _ok(reportId=report_id)
        if path == "/upload":
            form = _multipart(raw, ctype)
            report = self.reports[form["id"].decode()]
            file_id = f"f{len(report.files) + 1}"
            report.files[file_id] = form["file"]
            return _ok(
                reportId=report.report_id,
                fileId=file_id,
                hash=hashlib.md5(form["file"]).hexdigest(),  # noqa: S324 (NCMEC answers MD5)
            )
        if path == "/fileinfo":
            root = ET.fromstring(raw)  # noqa: S314 (test input)
            report = self.reports[str(root.findtext("reportId"))]
            report.details[str(root.findtext("fileId"))] = raw
            return _ok(reportId=report.report_id)
        if path == "/finish":
            report_id = parse_qs(raw.decode())["id"][0]
            self.reports[report_id].finished = True
            return _ok(reportId=report_id)
        return 404, b"not found", "text/plain"


def _ok(**values: str) -> tuple[int, bytes, str]:
    root = ET.Element("reportResponse")
    ET.SubElement(root, "responseCode").text = "0"
    ET.SubElement(root, "responseDescription").text = ""
    for name, value in values.items():
        ET.SubElement(root, name).text = value
    return 200, ET.tostring(root), "text/xml"


def _multipart(raw: bytes, ctype: str) -> dict[str, bytes]:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw
    )
    out: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        out[str(name)] = payload
    return out


@contextmanager
def running(**options: Any) -> Iterator[FakeAuthority]:
    fake = FakeAuthority(**options).start()
    try:
        yield fake
    finally:
        fake.stop()
