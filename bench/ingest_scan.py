"""Ingest + scan throughput (items/s) on the synthetic demo data, SQLite vs PostgreSQL.

Run: ``make bench`` (or ``.venv/bin/python bench/ingest_scan.py --items 50000``).
Prints a table and writes ``bench/results/ingest_scan.json``. PostgreSQL is taken
from ``$VIGIL_BENCH_POSTGRES_URL`` or the local server at 127.0.0.1:5432; a fresh
database is created for the run and dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table

from vigil.db import make_engine, upgrade
from vigil.demo.generator import DemoFiles, generate
from vigil.demo.runner import import_banks
from vigil.ingest.services import ingest_file, scan_context

RESULTS = Path(__file__).parent / "results" / "ingest_scan.json"
PG_ADMIN = os.environ.get(
    "VIGIL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def run_once(db_url: str, files: DemoFiles, batch_size: int) -> dict[str, Any]:
    engine = make_engine(db_url)
    upgrade(engine)
    import_banks(engine, files)
    ctx = scan_context(engine, None)
    started = time.perf_counter()
    summary = ingest_file(engine, files.items_path, ctx, batch_size=batch_size)
    elapsed = time.perf_counter() - started
    engine.dispose()
    o = summary.outcome
    return {
        "items_stored": o.stored,
        "signals": o.signals,
        "verdicts": o.verdicts,
        "cases": o.cases_opened,
        "actions": o.actions,
        "seconds": round(elapsed, 3),
        "items_per_s": round(summary.lines / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        files = generate(Path(tmp) / "data", items=args.items)
        rows: dict[str, dict[str, Any]] = {}
        console.print(f"ingest + scan of {args.items:,} synthetic items, batch {args.batch_size}")
        rows["sqlite"] = run_once(f"sqlite:///{tmp}/bench.db", files, args.batch_size)
        if not args.skip_postgres:
            name = f"vigil_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            try:
                rows["postgresql"] = run_once(
                    PG_ADMIN.rsplit("/", 1)[0] + "/" + name, files, args.batch_size
                )
            finally:
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    table = Table(title="Vigil ingest + scan throughput")
    table.add_column("backend", no_wrap=True, min_width=10)
    for col in ("items/s", "seconds", "stored", "signals", "verdicts", "cases", "actions"):
        table.add_column(col, justify="right")
    for backend, r in rows.items():
        table.add_row(
            backend,
            f"{r['items_per_s']:,.0f}",
            f"{r['seconds']:.2f}",
            f"{r['items_stored']:,}",
            f"{r['signals']:,}",
            f"{r['verdicts']:,}",
            f"{r['cases']:,}",
            f"{r['actions']:,}",
        )
    console.print(table)
    machine = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "items": args.items,
                "batch_size": args.batch_size,
                "machine": machine,
                "results": rows,
            },
            indent=2,
        )
        + "\n"
    )
    console.print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
