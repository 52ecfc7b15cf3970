"""Retroactive matching throughput: stored items rescanned per second, per bank kind.

Run: ``.venv/bin/python bench/rescan.py --items 50000`` (``--skip-postgres`` for SQLite only).
Ingests synthetic items (hash-only media with SHA-256 and PDQ, short texts) under
the default policy with ``unmatched_content: keep``, so that a term bank has every
text to look through (under ``drop`` only matched items keep their text), then
adds entries to a SHA-256, a PDQ (with transforms) and a term bank and times
each rescan. "items/s" is stored items covered by the job per second. Writes
``bench/results/rescan.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from vigil.banks.formats import RawEntry
from vigil.banks.services import create_bank, import_entries
from vigil.db import make_engine, upgrade
from vigil.ingest.services import ingest_file, scan_context
from vigil.policy.defaults import default_policy_text
from vigil.rescans.services import activate_policy, run_rescan
from vigil.unit_of_work import unit_of_work

RESULTS = Path(__file__).parent / "results" / "rescan.json"
PG_ADMIN = os.environ.get(
    "VIGIL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _flip(hex_hash: str, bits: int, rng: random.Random) -> str:
    value = int(hex_hash, 16)
    for bit in rng.sample(range(256), bits):
        value ^= 1 << bit
    return f"{value:064x}"


def write_items(path: Path, n: int, seed: int = 11) -> dict[str, list[str]]:
    """Items and the bank entries that will match 1% of them (SHA-256, term) and 0.5% (PDQ)."""
    rng = random.Random(seed)
    banked_sha = [hashlib.sha256(f"banked-{i}".encode()).hexdigest() for i in range(1000)]
    banked_pdq = [f"{rng.getrandbits(256):064x}" for _ in range(100)]
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            sha = (
                rng.choice(banked_sha)
                if i % 100 == 0
                else hashlib.sha256(f"media-{i}".encode()).hexdigest()
            )
            pdq = (
                _flip(rng.choice(banked_pdq), rng.randint(0, 20), rng)
                if i % 200 == 1
                else f"{rng.getrandbits(256):064x}"
            )
            record = {
                "id": f"item-{i}",
                "kind": "post",
                "author_id": f"acct-{i % 5000}",
                "created_at": "2026-10-01T12:00:00+00:00",
                "text": f"synthetic post number {i} about "
                + ("a synthetic slur" if i % 100 == 2 else "the weather"),
                "media": [{"sha256": sha, "pdq": pdq, "pdq_quality": 90}],
            }
            fh.write(json.dumps(record) + "\n")
    return {"sha256": banked_sha, "pdq": banked_pdq, "term": ["synthetic slur"]}


def _timed_rescan(
    engine: Engine, policy_path: Path, name: str, kind: str, values: list[str], **settings: Any
) -> dict[str, Any]:
    with unit_of_work(engine) as uow:
        bank = create_bank(uow, name, kind=kind, category="terrorism", **settings)
        result = import_entries(uow, bank, [RawEntry(i, v) for i, v in enumerate(values, 1)])
    assert result.rescan_id is not None
    policy = activate_policy(engine, policy_path)
    started = time.perf_counter()
    report = run_rescan(engine, result.rescan_id, policy)
    elapsed = time.perf_counter() - started
    return {
        "entries": len(values),
        "covered": report.upto_item_id,
        "scanned": report.items_scanned,
        "signals": report.signals,
        "verdicts": report.verdicts,
        "seconds": round(elapsed, 3),
        "items_per_s": round(report.upto_item_id / elapsed, 1),
    }


def run_once(
    db_url: str, items: Path, policy: Path, entries: dict[str, list[str]]
) -> dict[str, Any]:
    engine = make_engine(db_url)
    upgrade(engine)
    ingest_file(engine, items, scan_context(engine, policy))
    out = {
        "sha256": _timed_rescan(engine, policy, "bench-sha", "sha256", entries["sha256"]),
        "pdq": _timed_rescan(
            engine, policy, "bench-pdq", "pdq", entries["pdq"], match_transforms=True
        ),
        "term": _timed_rescan(engine, policy, "bench-term", "term", entries["term"]),
    }
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    console = Console()
    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        items = Path(tmp) / "items.jsonl"
        entries = write_items(items, args.items)
        policy = Path(tmp) / "keep.yaml"
        policy.write_text(
            default_policy_text().replace("unmatched_content: drop", "unmatched_content: keep")
        )
        console.print(f"rescans over {args.items:,} stored items")
        rows["sqlite"] = run_once(f"sqlite:///{tmp}/bench.db", items, policy, entries)
        if not args.skip_postgres:
            name = f"vigil_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            try:
                url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
                rows["postgresql"] = run_once(url, items, policy, entries)
            finally:
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    table = Table(title="Vigil rescan throughput")
    for col in ("backend", "bank", "entries", "items/s", "seconds", "scanned", "signals"):
        table.add_column(col, justify="left" if col in ("backend", "bank") else "right")
    for backend, kinds in rows.items():
        for kind, r in kinds.items():
            table.add_row(
                backend, kind, f"{r['entries']:,}", f"{r['items_per_s']:,.0f}",
                f"{r['seconds']:.2f}", f"{r['scanned']:,}", f"{r['signals']:,}",
            )  # fmt: skip
    console.print(table)
    machine = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps({"items": args.items, "machine": machine, "results": rows}, indent=2) + "\n"
    )
    console.print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
