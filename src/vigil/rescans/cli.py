"""``vigil bank rescan`` and ``vigil bank rescans``: retroactive matching from the command line.

The commands hang under ``vigil bank`` because a rescan is what a bank's new
entries set off; ``vigil bank import`` runs its job straight away through
:func:`run_jobs` unless told not to.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from vigil.cli_support import PolicyFileOption, console, err_console, state
from vigil.rescans.services import (
    DEFAULT_CHUNK_SIZE,
    RescanError,
    RescanReport,
    activate_policy,
    list_rescans,
    run_rescan,
)


def _reports(engine: Engine, bank: str | None, *, unfinished: bool) -> list[RescanReport]:
    try:
        with Session(engine) as session:
            return list_rescans(session, bank, unfinished=unfinished)
    except RescanError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc


def _outcome(r: RescanReport) -> str:
    if r.waiting:
        return f"rescan #{r.id} (bank {r.bank}): waiting, {r.waiting}"
    return (
        f"rescan #{r.id} (bank {r.bank}): {r.items_scanned:,} items scanned, "
        f"{r.signals:,} signals, {r.suppressed:,} withheld (known-benign), "
        f"{r.verdicts:,} verdicts, {r.cases_opened:,} cases opened, {r.actions:,} actions"
    )


def run_jobs(
    engine: Engine,
    jobs: Sequence[RescanReport],
    policy_file: Path | None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> list[RescanReport]:
    """Run jobs one after another, each with a progress bar over the item ids it covers."""
    if not jobs:
        return []
    policy = activate_policy(engine, policy_file)
    done: list[RescanReport] = []
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("item ids"),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        for job in jobs:
            task = progress.add_task(
                f"rescan #{job.id} {job.bank}",
                total=job.upto_item_id,
                completed=job.cursor_item_id,
            )

            def advance(r: RescanReport, task: TaskID = task) -> None:
                progress.update(task, completed=r.cursor_item_id)

            done.append(run_rescan(engine, job.id, policy, chunk_size=chunk_size, on_chunk=advance))
    for r in done:
        console.print(_outcome(r), highlight=False, soft_wrap=True)
    return done


def rescan_cmd(
    ctx: typer.Context,
    bank: str | None = typer.Argument(None, help="Only this bank's jobs (default: every bank)."),
    policy_file: PolicyFileOption = None,
    chunk_size: int = typer.Option(
        DEFAULT_CHUNK_SIZE, "--chunk-size", min=1, help="Items per transaction."
    ),
) -> None:
    """Run queued and interrupted rescans: new entries matched against items stored before them.

    Each chunk of items commits with its signals, verdicts, cases and actions, so
    a run that was stopped resumes where it stopped and matches nothing twice.
    """
    engine = state(ctx).engine()
    jobs = _reports(engine, bank, unfinished=True)
    if not jobs:
        console.print("no rescan to run")
        return
    run_jobs(engine, jobs, policy_file, chunk_size)


def rescans_cmd(
    ctx: typer.Context,
    bank: str | None = typer.Argument(None, help="Only this bank's jobs."),
    unfinished: bool = typer.Option(False, "--unfinished", help="Only jobs not finished yet."),
) -> None:
    """List rescan jobs with their status, progress and counts."""
    jobs = _reports(state(ctx).engine(), bank, unfinished=unfinished)
    if not jobs:
        console.print("no rescans")
        return
    table = Table(
        "job", "bank", "trigger", "entries", "status", "item ids", "items", "signals", "withheld",
        "verdicts", "cases", "actions", "updated",
    )  # fmt: skip
    for r in jobs:
        entries = f"#{r.first_entry_id}" + (
            f"-#{r.last_entry_id}" if r.last_entry_id != r.first_entry_id else ""
        )
        updated = r.updated_at or r.created_at
        table.add_row(
            str(r.id), r.bank, r.trigger, entries, r.status,
            f"{r.cursor_item_id:,} of {r.upto_item_id:,}",
            *(f"{n:,}" for n in (r.items_scanned, r.signals, r.suppressed, r.verdicts,
                                 r.cases_opened, r.actions)),
            f"{updated:%Y-%m-%d %H:%M:%S}",
        )  # fmt: skip
    console.print(table)
