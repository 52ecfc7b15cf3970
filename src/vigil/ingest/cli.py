"""``vigil ingest``: read a JSONL or CSV file of items and notices into the spine."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy.orm import Session

from vigil.cli_support import console, state
from vigil.ingest.services import IngestSummary, ingest_file, scan_context
from vigil.rescans.cli import run_jobs
from vigil.rescans.services import list_rescans
from vigil.signals.refresh import DEFAULT_REFRESH_SECONDS


def summary_table(summary: IngestSummary) -> Table:
    o = summary.outcome
    table = Table(title=f"Ingested {summary.path.name}", show_header=False)
    rows = [
        ("lines read", summary.lines),
        ("items stored", o.stored),
        ("notices stored", o.notices),
        ("duplicates skipped", o.duplicates),
        ("rejected", summary.rejected),
        ("  of which notices refused (notifier limited)", o.refused),
        ("signals", o.signals),
        ("matches withheld (known-benign)", o.suppressed),
        ("verdicts", o.verdicts),
        ("cases opened", o.cases_opened),
        ("actions", o.actions),
        ("content dropped (no signal)", o.content_dropped),
    ]
    for name, value in rows:
        table.add_row(name, f"{value:,}")
    table.add_row("time", f"{summary.elapsed_s:.1f} s")
    return table


def ingest(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="Items and notices as .jsonl or .csv."
    ),
    policy: Path | None = typer.Option(
        None,
        "--policy",
        exists=True,
        dir_okay=False,
        help="Code-of-practice YAML (default: the shipped policy).",
    ),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="Where to write rejected lines (default: FILE.rejects.jsonl)."
    ),
    batch_size: int = typer.Option(1000, min=1, max=100_000, help="Records per transaction."),
    refresh_seconds: float = typer.Option(
        DEFAULT_REFRESH_SECONDS,
        "--refresh-seconds",
        min=0.0,
        max=60.0,
        help="How often bank changes made during the run reach its index (0: never).",
    ),
) -> None:
    """Ingest and scan a JSONL or CSV file of items and notices.

    Every line is validated; new items are stored exactly once, matched against the banks,
    judged by the policy, and either queued for review or acted on. Items that matched
    nothing keep only their ids and hashes (unless the policy's retention says otherwise).

    Malformed lines go to the rejects file with their line number and reason; the run goes on.
    Running the same file again stores nothing twice. Entries imported or withdrawn while
    the run goes on reach its bank index within --refresh-seconds.
    """
    engine = state(ctx).engine()
    scan = scan_context(engine, policy)
    refresher = scan.refresher(engine, refresh_seconds) if refresh_seconds > 0 else None
    with (
        refresher if refresher is not None else nullcontext(),
        Progress(
            TextColumn("[bold]ingest"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as progress,
    ):
        task = progress.add_task("ingest", total=file.stat().st_size)
        summary = ingest_file(
            engine,
            file,
            scan,
            batch_size=batch_size,
            rejects_path=rejects,
            on_bytes=lambda n: progress.advance(task, n),
            updater=refresher.updater if refresher is not None else None,
        )
    console.print(summary_table(summary))
    if summary.rescans_stretched:
        # Entries imported mid-run: finish matching them against what this run stored before.
        with Session(engine) as session:
            stretched = set(summary.stretched_rescans)
            pending = [r for r in list_rescans(session, unfinished=True) if r.id in stretched]
        run_jobs(engine, pending, policy)
    if summary.rejected:
        console.print(
            f"[yellow]{summary.rejected} rejected line(s) written to {summary.rejects_path}[/]"
        )
