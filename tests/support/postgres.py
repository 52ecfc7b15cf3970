"""Find a PostgreSQL server for the test run, or start a throwaway one.

Order: ``$VIGIL_TEST_POSTGRES_URL``; the local server on 127.0.0.1:5432; a
throwaway cluster made with the installed ``initdb``/``pg_ctl``. When none of
these works the run fails loudly: store tests are never skipped silently.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

DEFAULT_LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def can_connect(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def find_bindir() -> Path | None:
    candidates: list[str] = []
    if pg_config := shutil.which("pg_config"):
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    if initdb := shutil.which("initdb"):
        candidates.append(str(Path(initdb).parent))
    for c in candidates:
        if c and (Path(c) / "initdb").exists() and (Path(c) / "pg_ctl").exists():
            return Path(c)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ThrowawayServer:
    bindir: Path
    datadir: Path
    port: int
    run_as: str | None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _cmd(self, *args: str) -> list[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        return ["runuser", "-u", self.run_as, "--", *cmd] if self.run_as else cmd

    def stop(self) -> None:
        subprocess.run(
            self._cmd("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "stop"),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.datadir.parent, ignore_errors=True)


def start_throwaway(bindir: Path) -> ThrowawayServer:
    """initdb a fresh cluster in a temp dir and start it on a free loopback port."""
    root = Path(tempfile.mkdtemp(prefix="vigil-pg-"))
    datadir = root / "data"
    run_as: str | None = None
    if os.geteuid() == 0:  # initdb refuses to run as root
        run_as = "postgres"
        try:
            pw = pwd.getpwnam(run_as)
        except KeyError as exc:
            raise RuntimeError("running as root and no 'postgres' user exists for initdb") from exc
        os.chown(root, pw.pw_uid, pw.pw_gid)
    server = ThrowawayServer(bindir, datadir, _free_port(), run_as)
    subprocess.run(
        server._cmd("initdb", "-D", str(datadir), "-U", "postgres", "-A", "trust", "--no-sync"),
        capture_output=True,
        check=True,
    )
    opts = f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        server._cmd(
            "pg_ctl", "-D", str(datadir), "-o", opts, "-l", str(root / "log"), "-w", "start"
        ),
        capture_output=True,
        check=True,
    )
    deadline = time.monotonic() + 30
    while not can_connect(server.url):
        if time.monotonic() > deadline:
            raise RuntimeError(f"throwaway PostgreSQL did not start; see {root / 'log'}")
        time.sleep(0.2)
    return server


def resolve_server() -> tuple[str, ThrowawayServer | None]:
    """The admin URL of a usable server, and the throwaway server if one was started."""
    if url := os.environ.get("VIGIL_TEST_POSTGRES_URL"):
        if not can_connect(url):
            raise RuntimeError(f"VIGIL_TEST_POSTGRES_URL={url} is not reachable")
        return url, None
    if can_connect(DEFAULT_LOCAL_URL):
        return DEFAULT_LOCAL_URL, None
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError(
            "no PostgreSQL reachable at 127.0.0.1:5432 and no initdb/pg_ctl installed; "
            "run `make test` (it installs PostgreSQL) or set VIGIL_TEST_POSTGRES_URL"
        )
    server = start_throwaway(bindir)
    return server.url, server


def with_database(url: str, dbname: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{dbname}"


def create_database(admin_url: str, name: str, template: str | None = None) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        tmpl = f" TEMPLATE {template}" if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{tmpl}')


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
