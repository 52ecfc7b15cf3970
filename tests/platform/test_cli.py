"""``vigil platform`` end to end: tokens, endpoints, a delivery pass and the API server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from tests.platform.support import SECRET, SECRET_ENV, Receiver, act, serve_receiver
from vigil.cli import app
from vigil.db import make_engine
from vigil.db.base import utcnow

runner = CliRunner()
SRC = Path(__file__).resolve().parents[2] / "src"


def _vigil(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db_url, *args])
    # Rich wraps at the terminal width; compare text with whitespace collapsed.
    return result.exit_code, " ".join(result.stdout.split()), " ".join(result.stderr.split())


def _token(db_url: str, name: str) -> str:
    code, out, err = _vigil(db_url, "platform", "token", "create", name)
    assert code == 0, err
    assert "shown only now" in err
    return out.split()[-1]


def test_tokens_from_the_command_line(db_url: str) -> None:
    token = _token(db_url, "acme")
    assert token.startswith("vgl_")
    assert len(token) > 40
    code, out, _ = _vigil(db_url, "platform", "token", "list")
    assert code == 0
    assert "acme" in out
    assert token not in out
    assert _vigil(db_url, "platform", "token", "revoke", "acme")[0] == 0
    code, _, err = _vigil(db_url, "platform", "token", "revoke", "acme")
    assert code == 1
    assert "name: token 'acme' was already revoked" in err
    code, _, err = _vigil(db_url, "platform", "token", "create", "acme")
    assert code == 1
    assert "name: a token named 'acme' already exists" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://example.org/h"], "url:"),
        (["http://example.org/h"], "url: plain http"),
        (["https://example.org/h", "--events", "case.decided"], "event types: case.decided"),
        (["https://example.org/h", "--secret-env", "NOT-A-NAME"], "secret_env:"),
    ],
)
def test_webhook_add_refuses_bad_settings(sqlite_url: str, args: list[str], message: str) -> None:
    base = ["platform", "webhook", "add", "acme", *args]
    if "--secret-env" not in args:
        base += ["--secret-env", SECRET_ENV]
    code, _, err = _vigil(sqlite_url, *base)
    assert code == 1
    assert message in err


def test_add_list_deliver_and_pause_a_webhook(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    engine: Engine = make_engine(db_url)
    try:
        with serve_receiver(Receiver(SECRET, utcnow)) as receiver:
            code, out, err = _vigil(
                db_url, "platform", "webhook", "add", "acme", receiver.url,
                "--secret-env", SECRET_ENV, "--events", "action.applied,action.reversed",
            )  # fmt: skip
            assert code == 0, err
            assert "action.applied, action.reversed" in out
            code, _, err = _vigil(
                db_url, "platform", "webhook", "add", "acme", receiver.url, "--secret-env", "X"
            )
            assert code == 1
            assert "already exists" in err
            act(engine, "post-1")
            code, out, err = _vigil(db_url, "platform", "deliver")
            assert code == 0, err
            assert "1 delivered, 0 failed, 0 dead-lettered" in out
            assert [m["data"]["platform_item_id"] for m in receiver.accepted.values()] == ["post-1"]
            code, out, _ = _vigil(db_url, "platform", "webhook", "list")
            assert code == 0
            assert "acme" in out
            assert SECRET not in out
            assert _vigil(db_url, "platform", "webhook", "disable", "acme")[0] == 0
            act(engine, "post-2")
            assert "0 delivered" in _vigil(db_url, "platform", "deliver")[1]
            assert _vigil(db_url, "platform", "webhook", "enable", "acme")[0] == 0
            assert "1 delivered" in _vigil(db_url, "platform", "deliver")[1]
            code, _, err = _vigil(db_url, "platform", "webhook", "dead-letters", "nope")
            assert code == 1
            assert "no webhook endpoint named 'nope'" in err
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_runs_the_pull_api(sqlite_url: str) -> None:
    token = _token(sqlite_url, "acme")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vigil",
            "--db",
            sqlite_url,
            "platform",
            "serve",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/v1/platform/feed"
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
                break
            except httpx.TransportError:
                assert proc.poll() is None, "vigil platform serve exited"
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.json() == {"events": [], "next_cursor": "0"}
        assert httpx.get(url).status_code == 401
    finally:
        proc.terminate()
        proc.wait(10)
