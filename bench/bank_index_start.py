"""How fast a scan starts with a large PDQ bank: built from the database once, mapped after.

Run: ``.venv/bin/python bench/bank_index_start.py --sizes 1000000 10000000``.
For each size, a fresh SQLite database gets one PDQ bank of that many random
hashes (inserted in bulk). Then, each in a fresh Python process so imports and
numba's cached code count:

- "first start": ``ScanContext.load`` reads every entry, builds the bank's
  index and saves it next to the database;
- "next start": the same call maps the saved index and catches up on the log;
- both followed by one scan of an item with a PDQ hash (the first query).

Prints a table and writes ``bench/results/bank_index_start.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert

from vigil.banks.models import BankEntry
from vigil.banks.services import create_bank
from vigil.db import make_engine, upgrade
from vigil.db.base import table_of
from vigil.unit_of_work import unit_of_work

RESULTS = Path(__file__).parent / "results" / "bank_index_start.json"
_CHUNK = 200_000
ADDED_AT = datetime(2026, 12, 1, tzinfo=UTC)

_START = """
import json, sys, time
t0 = time.perf_counter()
from sqlalchemy.orm import Session
from vigil.db import make_engine
from vigil.pipeline import ScanContext
from vigil.policy import services as policy_services
from vigil.signals.drafts import MediaHashes, ScanInput
t1 = time.perf_counter()
engine = make_engine(sys.argv[1])
policy, _ = policy_services.load_active(None)
with Session(engine) as session:
    ctx = ScanContext.load(session, policy, 1)
t2 = time.perf_counter()
hits = ctx.index.match(ScanInput(1, None, [], [MediaHashes(0, None, None, sys.argv[2])]))
t3 = time.perf_counter()
bank = next(iter(ctx.index.pdq_banks.values()))
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "first_query_s": t3 - t2,
                  "hits": len(hits), "from_disk": ctx.index.replay_from is not None,
                  "nbytes": int(bank.matcher.nbytes), "entries": len(bank.matcher)}))
"""


def _populate(url: str, n: int, rng: np.random.Generator) -> str:
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(engine) as uow:
        bank_id = create_bank(uow, "big", kind="pdq", category="terrorism", source="bench").id
    first = ""
    with engine.begin() as conn:
        for start in range(0, n, _CHUNK):
            size = min(_CHUNK, n - start)
            hashes = rng.integers(0, 256, size=(size, 32), dtype=np.uint8)
            hexes = [bytes(h).hex() for h in hashes]
            first = first or hexes[0]
            conn.execute(
                insert(table_of(BankEntry)),
                [
                    {
                        "bank_id": bank_id,
                        "value": v,
                        "source": "bench",
                        "added_at": ADDED_AT,
                        "enabled": True,
                    }
                    for v in hexes
                ],
            )
    engine.dispose()
    return first


def _start(url: str, probe: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _START, url, probe],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "VIGIL_INDEX_DIR": ""},
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    rows: list[dict[str, Any]] = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'vigil.db'}"
            t = time.perf_counter()
            probe = _populate(url, n, rng)
            populate_s = time.perf_counter() - t
            for label in ("first start", "next start"):
                r = _start(url, probe)
                r.update(size=n, start=label, populate_s=populate_s)
                r["total_s"] = r["import_s"] + r["load_s"] + r["first_query_s"]
                r["bytes_per_hash"] = r["nbytes"] / max(1, r["entries"])
                rows.append(r)
    table = Table(title="Scan start with one large PDQ bank (SQLite)")
    for col in ("hashes", "start", "import s", "load s", "first query s", "total s", "B/hash"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            f"{r['size']:,}",
            r["start"],
            f"{r['import_s']:.2f}",
            f"{r['load_s']:.2f}",
            f"{r['first_query_s']:.3f}",
            f"{r['total_s']:.2f}",
            f"{r['bytes_per_hash']:.1f}",
        )
    Console().print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    machine = {"cpus": os.cpu_count(), "python": platform.python_version()}
    RESULTS.write_text(json.dumps({"machine": machine, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
