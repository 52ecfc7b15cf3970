"""``vigil audit``: verify the hash chain and read the log."""

from __future__ import annotations

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.audit.models import Event
from vigil.audit.services import verify
from vigil.cli_support import console, state

app = typer.Typer(help="The tamper-evident event log.", no_args_is_help=True)


@app.command("verify")
def verify_cmd(ctx: typer.Context) -> None:
    """Recompute the whole hash chain; name the first altered, removed, inserted or reordered event.

    Exits 0 when the log is intact and 1 when it is not.
    """
    with Session(state(ctx).engine()) as session:
        result = verify(session)
    if result.ok:
        console.print(f"[green]ok:[/] {result.events_checked:,} events, chain intact")
        return
    problem = result.first_problem
    assert problem is not None
    console.print(f"[red]FAILED:[/] {problem.message}")
    raise typer.Exit(1)


@app.command("tail")
def tail_cmd(
    ctx: typer.Context,
    n: int = typer.Option(20, "-n", min=1, help="How many of the newest events to show."),
    type_prefix: str | None = typer.Option(
        None, "--type", help="Only events whose type starts with this."
    ),
) -> None:
    """Show the newest events."""
    stmt = select(Event).order_by(Event.seq.desc()).limit(n)
    if type_prefix:
        stmt = stmt.where(Event.type.startswith(type_prefix))
    with Session(state(ctx).engine()) as session:
        rows = list(session.scalars(stmt))
    table = Table("seq", "time", "type", "subject", "actor", "hash")
    for e in reversed(rows):
        table.add_row(
            str(e.seq), e.ts.isoformat(timespec="seconds"), e.type, e.subject, e.actor, e.hash[:12]
        )
    console.print(table)
