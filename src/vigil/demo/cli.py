"""``vigil demo``: the whole spine on ~50,000 synthetic items, on the embedded SQLite default."""

from __future__ import annotations

import shutil
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.orm import Session

from vigil.cli_support import console, state
from vigil.db import make_engine, upgrade
from vigil.ingest.services import IngestSummary, ingest_file, scan_context
from vigil.pipeline import BatchOutcome


def demo(
    ctx: typer.Context,
    out: Path = typer.Option(
        Path("out/demo"),
        "--out",
        help="Folder for the generated data, the database and the report.",
    ),
    items: int = typer.Option(
        50_000, "--items", min=100, max=5_000_000, help="How many synthetic items to generate."
    ),
    seed: int = typer.Option(7, "--seed", help="Random seed: the same seed gives the same data."),
) -> None:
    """Run the whole spine on ~50,000 synthetic items and write an HTML report.

    Generates accounts, posts, benign images and URLs (a small share planted to match the
    demo banks or to read as clearly synthetic threats and propaganda), ingests and scans
    them with the default policy, and prints a summary.

    Uses a fresh SQLite database in OUT unless --db is given.
    """
    # Imported here so `vigil --help` and other commands do not load Pillow and the generator.
    from vigil.demo.authorities import legal_desk
    from vigil.demo.generator import generate
    from vigil.demo.report import collect_summary, render_report, summary_table
    from vigil.demo.review import work_the_queue
    from vigil.demo.runner import import_banks

    started = time.perf_counter()
    given = state(ctx).db_url
    if given is None:
        if out.exists():
            shutil.rmtree(out)
        db_url = f"sqlite:///{(out / 'vigil-demo.db').resolve()}"
    else:
        db_url = given
    out.mkdir(parents=True, exist_ok=True)
    engine = make_engine(db_url)
    upgrade(engine)

    with console.status(f"generating {items:,} synthetic items"):
        files = generate(out / "data", items=items, seed=seed)
    console.print(
        f"generated {files.items:,} items, {files.notices} notices, {len(files.banks)} banks in {out / 'data'}"
    )

    import_banks(engine, files)
    scan = scan_context(engine, None)

    total = BatchOutcome()
    lines = 0
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        for label, path in (("items", files.items_path), ("notices", files.notices_path)):
            task = progress.add_task(f"ingest + scan {label}", total=path.stat().st_size)
            summary: IngestSummary = ingest_file(
                engine, path, scan, on_bytes=partial(progress.advance, task)
            )
            total.add(summary.outcome)
            lines += summary.lines

    with console.status(
        "review shift: alice decides, bob confirms four-eyes, carol answers appeals"
    ):
        shift = work_the_queue(engine, scan.policy, files.truth)
    with console.status("legal desk: an Art. 18 referral, a refused and a fulfilled request"):
        desk = legal_desk(engine, scan.policy, out / "authorities")

    with Session(engine) as session:
        report = collect_summary(
            session,
            items_read=lines,
            items_stored=total.stored,
            duplicates=total.duplicates,
            rejected=len(total.rejected),
            elapsed_s=time.perf_counter() - started,
            db_url=db_url,
            policy_label=f"{scan.policy.policy} {scan.policy.version}",
        )
    report = replace(report, review=shift)
    console.print(summary_table(report))
    if desk.referral_id is not None:
        console.print(
            f"referral #{desk.referral_id} ({desk.referral_route}) approved by the legal officer; "
            f"package and chain of custody: {desk.referral_package}"
        )
    console.print(
        f"request #{desk.refused_request} refused at intake: {', '.join(desk.refusal_reasons)}"
    )
    if desk.produced_request is not None:
        console.print(
            f"request #{desk.produced_request} verified, approved and produced: {desk.production_file}"
        )
    html = render_report(report, out / "report.html")
    console.print(f"report: {html}")
    if not report.audit_ok:
        console.print("[red]audit log verification FAILED[/]")
        raise typer.Exit(1)
