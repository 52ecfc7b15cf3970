"""``vigil db``: schema migrations."""

from __future__ import annotations

import typer

from vigil.cli_support import console, safe_url, state
from vigil.db import make_engine, upgrade
from vigil.db.migrate import current_revision, head_revision

app = typer.Typer(help="Manage the database schema (Alembic migrations).", no_args_is_help=True)


@app.command("upgrade")
def upgrade_cmd(ctx: typer.Context) -> None:
    """Apply all pending migrations to the database given by --db."""
    url = state(ctx).url
    engine = make_engine(url)
    upgrade(engine)
    console.print(f"[green]ok:[/] {safe_url(url)} is at revision {current_revision(engine)}")


@app.command("status")
def status_cmd(ctx: typer.Context) -> None:
    """Show the database's schema revision and the newest one this Vigil knows."""
    url = state(ctx).url
    engine = make_engine(url)
    console.print(
        f"database {safe_url(url)}: revision {current_revision(engine)}; head {head_revision()}"
    )
