"""``vigil statements``: export, submit and show statements of reasons."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.cli_support import console, err_console, state
from vigil.statements.export import Problem, count_statements, export_statements
from vigil.statements.models import StatementOfReasons
from vigil.statements.reducer import REJECTED, SUBMITTED
from vigil.statements.services import render_for_user
from vigil.statements.submitter import (
    DEFAULT_TOKEN_ENV,
    SubmitError,
    SubmitReport,
    Submitter,
    base_url,
)

app = typer.Typer(
    help="Statements of reasons (DSA Art. 17): export, submit to the transparency database, show.",
    no_args_is_help=True,
)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[red]error:[/] {escape(message)}")
    return typer.Exit(code)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )


def _problems_table(title: str, problems: list[Problem]) -> Table:
    table = Table(title=title)
    table.add_column("PUID", no_wrap=True)
    table.add_column("field")
    table.add_column("problem")
    for p in problems:
        table.add_row(p.puid, p.field, p.message)
    return table


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", file_okay=False, help="Folder for the batch files."),
    since: datetime | None = typer.Option(
        None, "--since", formats=["%Y-%m-%d"], help="Only statements issued on or after DATE."
    ),
    everything: bool = typer.Option(
        False,
        "--all/--unsubmitted",
        help="Every statement, or only those not yet submitted (default).",
    ),
) -> None:
    """Write statements as submission batches of at most 100 (one JSON file per request)."""
    engine = state(ctx).engine()
    unsubmitted = not everything
    day = since.date() if since is not None else None
    with Session(engine) as session:
        total = count_statements(session, since=day, unsubmitted=unsubmitted)
        with _progress() as progress:
            task = progress.add_task("exporting", total=total)
            try:
                report = export_statements(
                    session,
                    out,
                    since=day,
                    unsubmitted=unsubmitted,
                    progress=lambda n: progress.advance(task, n),
                )
            except FileExistsError as exc:
                raise _fail(str(exc)) from None
    if report.problems:
        console.print(_problems_table("Left out: failed validation", report.problems))
    if report.scrubbed:
        console.print(
            f"[yellow]note:[/] personal data removed at export from {len(report.scrubbed)} "
            "statement(s) whose stored body still held some"
        )
    console.print(
        f"[green]ok:[/] {report.exported:,} statement(s) in {len(report.files)} file(s) "
        f"in {escape(str(out))}" + (f"; {len(report.failed)} left out" if report.problems else "")
    )
    if report.problems:
        raise typer.Exit(1)


def _summary(report: SubmitReport) -> Table:
    table = Table(title="Transparency database submission")
    table.add_column("outcome")
    table.add_column("statements", justify="right")
    table.add_row("created now (HTTP 201)", f"{len(report.submitted):,}")
    table.add_row("already held (duplicate PUID: done)", f"{len(report.already_held):,}")
    table.add_row("rejected by the database", f"{len(report.rejected):,}")
    table.add_row("failed our own checks (not sent)", f"{len({p.puid for p in report.invalid}):,}")
    table.add_row("still pending", f"{report.left_pending:,}")
    table.add_row("requests / waits", f"{report.requests:,} / {len(report.waits):,}")
    return table


@app.command("submit")
def submit_cmd(
    ctx: typer.Context,
    endpoint: str = typer.Option(
        ...,
        "--endpoint",
        help="API base, e.g. https://transparency.dsa.ec.europa.eu (the batch path is added).",
    ),
    token_env: str = typer.Option(
        DEFAULT_TOKEN_ENV, "--token-env", help="Environment variable that holds the API token."
    ),
) -> None:
    """Send pending statements in batches of at most 100 until each is accepted or refused."""
    token = os.environ.get(token_env, "")
    if not token:
        raise _fail(f"token: the environment variable {token_env} is not set", 2)
    try:
        base_url(endpoint)
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    engine = state(ctx).engine()
    with Session(engine) as session:
        total = count_statements(session, unsubmitted=True)
    try:
        with Submitter(engine, endpoint, token) as submitter, _progress() as progress:
            task = progress.add_task("submitting", total=total)
            report = submitter.run(progress=lambda n: progress.advance(task, n))
    except SubmitError as exc:
        raise _fail(str(exc), 2) from None
    console.print(_summary(report))
    if report.rejected:
        table = Table(title="Rejected")
        table.add_column("PUID", no_wrap=True)
        table.add_column("fields")
        for puid, fields in sorted(report.rejected.items()):
            table.add_row(puid, ", ".join(fields))
        console.print(table)
    if report.invalid:
        console.print(_problems_table("Not sent: failed validation", report.invalid))
    if report.gave_up:
        console.print(f"[yellow]stopped:[/] {escape(report.gave_up)}; run again later")
    if not report.ok:
        raise typer.Exit(1)


@app.command("show")
def show_cmd(
    ctx: typer.Context, puid: str = typer.Argument(..., help="The statement's PUID.")
) -> None:
    """Show a statement as the affected user receives it, and where it stands."""
    with Session(state(ctx).engine()) as session:
        row = session.scalar(select(StatementOfReasons).where(StatementOfReasons.puid == puid))
    if row is None:
        raise _fail(f"puid: no statement with PUID {puid}")
    console.print(render_for_user(row), markup=False, highlight=False, end="")
    if row.submission_status == SUBMITTED:
        when = row.submitted_at.date().isoformat() if row.submitted_at else "?"
        status = f"submitted on {when} (uuid {row.tdb_uuid or 'not returned'})"
    elif row.submission_status == REJECTED:
        status = "rejected (fields: " + ", ".join(row.rejected_fields or []) + ")"
    else:
        status = "not yet submitted"
    console.print(f"\n[dim]Transparency database: {escape(status)}[/]")
