"""Sending approved referrals: NCMEC's CyberTipline flow, or a JSON package to an HTTPS endpoint.

Every request carries the referral's stored submission key (``Idempotency-Key``),
so a retry after a lost answer is recognised by the recipient and never makes a
second report; the NCMEC flow also keeps its progress (report id, uploaded
files) on the referral, so a later run resumes where the last one stopped.
5xx, 429 and connection errors are retried with exponential backoff (429 honours
``Retry-After``); anything else ends the attempt with ``referral.failed``.

Endpoints come from configuration or the environment; credentials only from the
environment. They are never logged, stored, or put in an event or an error.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from vigil.db.base import utcnow
from vigil.policy.schema import ReferralRoute
from vigil.referrals import ncmec
from vigil.referrals.models import Referral, ReferralStatus
from vigil.referrals.package import Package, build_package
from vigil.referrals.services import record_failed, record_progress, record_submitted
from vigil.unit_of_work import unit_of_work

log = logging.getLogger(__name__)

JSON_PATH = "/referrals"
XML = "text/xml; charset=utf-8"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class SubmitError(Exception):
    """A submission could not be made; the message never holds a credential."""


class _FailedError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0


@dataclass(frozen=True)
class Endpoint:
    """Where a route's referrals go. ``token``: bearer token (JSON routes); ``username``/
    ``password``: NCMEC's HTTP Basic credentials. Hidden from ``repr``."""

    url: str
    token: str | None = field(default=None, repr=False)
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme != "https" and not (
            parts.scheme == "http" and parts.hostname in LOCAL_HOSTS
        ):
            raise SubmitError(f"endpoint: {self.url!r} must be https (http only to localhost)")


def _env(route: ReferralRoute) -> str:
    return f"VIGIL_REFERRAL_{route.value.upper()}"


def endpoint_from_env(
    route: ReferralRoute, url: str | None = None, env: Mapping[str, str] | None = None
) -> Endpoint:
    """The route's endpoint: ``url`` or ``$VIGIL_REFERRAL_<ROUTE>_URL``; credentials from
    ``$VIGIL_REFERRAL_<ROUTE>_TOKEN`` or, for NCMEC, ``..._USERNAME`` and ``..._PASSWORD``."""
    env = os.environ if env is None else env
    prefix = _env(route)
    url = url or env.get(f"{prefix}_URL")
    if not url:
        raise SubmitError(f"endpoint: no URL for route {route.value}; set {prefix}_URL")
    return Endpoint(
        url=url.rstrip("/"),
        token=env.get(f"{prefix}_TOKEN"),
        username=env.get(f"{prefix}_USERNAME"),
        password=env.get(f"{prefix}_PASSWORD"),
    )


@dataclass
class SubmitResult:
    referral_id: int
    ok: bool
    external_id: str | None = None
    reason: str | None = None
    requests: int = 0
    waits: list[float] = field(default_factory=list)


@dataclass
class _Sender:
    client: httpx.Client
    endpoint: Endpoint
    retry: RetryPolicy
    sleep: Callable[[float], None]
    result: SubmitResult

    def _auth(self) -> dict[str, Any]:
        if self.endpoint.username is not None and self.endpoint.password is not None:
            return {"auth": httpx.BasicAuth(self.endpoint.username, self.endpoint.password)}
        return {}

    def send(
        self, path: str, key: str, *, content_type: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """POST with retries; returns the first answer that is neither 429 nor 5xx.

        Waits double from ``base_delay`` up to ``max_delay``; a 429's ``Retry-After``
        (seconds, capped at ``max_delay``) replaces the backoff.
        """
        headers = {"Idempotency-Key": key}
        if content_type:
            headers["Content-Type"] = content_type
        if self.endpoint.token:
            headers["Authorization"] = f"Bearer {self.endpoint.token}"
        last, wait = "no_attempt", 0.0
        for attempt in range(self.retry.max_attempts):
            if attempt:
                self.result.waits.append(wait)
                self.sleep(wait)
            wait = min(self.retry.max_delay, self.retry.base_delay * 2**attempt)
            self.result.requests += 1
            try:
                answer = self.client.post(
                    self.endpoint.url + path, headers=headers, **self._auth(), **kwargs
                )
            except httpx.TransportError as exc:
                last = f"connection_error:{type(exc).__name__}"
                continue
            if answer.status_code == 429 or answer.status_code >= 500:
                last = f"http_{answer.status_code}"
                after = answer.headers.get("Retry-After", "")
                if answer.status_code == 429 and after.isdigit():
                    wait = min(float(after), self.retry.max_delay)
                continue
            return answer
        raise _FailedError(f"gave_up_after_{self.retry.max_attempts}:{last}")


def _ncmec_ok(answer: httpx.Response, step: str) -> dict[str, str]:
    if answer.status_code != 200:
        raise _FailedError(f"ncmec_{step}_http_{answer.status_code}")
    try:
        body = ncmec.parse_response(answer.content)
    except Exception as exc:
        raise _FailedError(f"ncmec_{step}_unreadable") from exc
    if body.get("responseCode") != "0":
        raise _FailedError(f"ncmec_{step}_code_{body.get('responseCode')}")
    return body


def _ncmec(
    engine: Engine,
    sender: _Sender,
    referral: Referral,
    package: Package,
    reporter: ncmec.Reporter,
) -> str:
    key = str(referral.submission_key)
    progress: dict[str, Any] = dict(referral.progress or {})
    if "report_id" not in progress:
        answer = sender.send(
            "/submit", key, content=ncmec.report_xml(package, reporter), content_type=XML
        )
        progress = {"report_id": _ncmec_ok(answer, "submit")["reportId"], "files": {}}
        _save(engine, referral.id, progress)
    report_id = str(progress["report_id"])
    files: dict[str, str] = dict(progress.get("files") or {})
    for file in package.files:
        if file.data is None or file.sha256 in files:
            continue
        answer = sender.send(
            "/upload",
            f"{key}:{file.sha256}",
            data={"id": report_id},
            files={"file": (file.name, file.data)},
        )
        body = _ncmec_ok(answer, "upload")
        if body.get("hash") and body["hash"] != hashlib.md5(file.data).hexdigest():  # noqa: S324
            raise _FailedError("ncmec_upload_hash_mismatch")
        details = ncmec.file_details_xml(report_id, body["fileId"], file)
        _ncmec_ok(
            sender.send(
                "/fileinfo", f"{key}:{file.sha256}:info", content=details, content_type=XML
            ),
            "fileinfo",
        )
        files[file.sha256] = body["fileId"]
        progress = {"report_id": report_id, "files": files}
        _save(engine, referral.id, progress)
    _ncmec_ok(sender.send("/finish", f"{key}:finish", data={"id": report_id}), "finish")
    return report_id


def _json_route(sender: _Sender, referral: Referral, package: Package) -> str:
    body = {
        "submission_key": referral.submission_key,
        "route": referral.route,
        "destination": list(referral.destination),
        "package_sha256": package.sha256,
        "package": package.to_json(),
        "files": [
            {
                "name": f.name,
                "sha256": f.sha256,
                "data_b64": base64.b64encode(f.data).decode("ascii"),
            }
            for f in package.files
            if f.data is not None
        ],
    }
    answer = sender.send(JSON_PATH, str(referral.submission_key), json=body)
    if answer.status_code not in (200, 201):
        raise _FailedError(f"http_{answer.status_code}")
    try:
        return str(answer.json()["id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise _FailedError("unreadable_answer") from exc


def _save(engine: Engine, referral_id: int, progress: dict[str, Any]) -> None:
    with unit_of_work(engine) as uow:
        record_progress(uow, referral_id, progress)


def submit(
    engine: Engine,
    referral_id: int,
    endpoint: Endpoint,
    *,
    client: httpx.Client,
    reporter: ncmec.Reporter | None = None,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], datetime] = utcnow,
) -> SubmitResult:
    """Send one approved (or previously failed) referral; records ``referral.submitted`` or
    ``referral.failed``. The package is rebuilt and must match the SHA-256 approved."""
    result = SubmitResult(referral_id, ok=False)
    with Session(engine) as session:
        referral = session.get(Referral, referral_id)
        if referral is None:
            raise SubmitError(f"no referral #{referral_id}")
        if referral.status not in (ReferralStatus.APPROVED.value, ReferralStatus.FAILED.value):
            raise SubmitError(
                f"referral #{referral_id} is {referral.status}; only approved ones go"
            )
        package = build_package(session, referral)
        session.expunge(referral)
    route = ReferralRoute(referral.route)
    if route is ReferralRoute.NCMEC and reporter is None:
        raise SubmitError("reporter: an NCMEC report names the reporting platform and email")
    sender = _Sender(client, endpoint, retry or RetryPolicy(), sleep, result)
    try:
        if package.sha256 != referral.package_sha256:
            raise _FailedError("package_changed_since_approval")
        if route is ReferralRoute.NCMEC:
            assert reporter is not None
            external = _ncmec(engine, sender, referral, package, reporter)
        else:
            external = _json_route(sender, referral, package)
    except _FailedError as exc:
        result.reason = exc.reason
        log.warning("referral %s not submitted: %s", referral_id, exc.reason)
        with unit_of_work(engine, clock=clock) as uow:
            record_failed(uow, referral_id, reason=exc.reason)
        return result
    with unit_of_work(engine, clock=clock) as uow:
        record_submitted(uow, referral_id, external_id=external)
    result.ok, result.external_id = True, external
    log.info("referral %s submitted (%s)", referral_id, route.value)
    return result


def sendable(engine: Engine) -> list[int]:
    """Referrals waiting to be sent: approved, or failed on an earlier attempt; by deadline."""
    with Session(engine) as session:
        return list(
            session.scalars(
                select(Referral.id)
                .where(
                    Referral.status.in_(
                        [ReferralStatus.APPROVED.value, ReferralStatus.FAILED.value]
                    )
                )
                .order_by(Referral.deadline_at, Referral.id)
            )
        )
