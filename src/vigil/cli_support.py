"""What every command needs: the database from ``--db`` and a Rich console."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import Engine

from vigil.config import default_db_url
from vigil.db import make_engine, upgrade
from vigil.db.engine import display_url
from vigil.db.migrate import current_revision, head_revision

console = Console()
err_console = Console(stderr=True)


@dataclass
class AppState:
    db_url: str | None = None
    _engine: Engine | None = None

    @property
    def url(self) -> str:
        return self.db_url or default_db_url()

    def engine(self) -> Engine:
        """The engine, migrated: SQLite is upgraded in place, PostgreSQL must be upgraded explicitly."""
        if self._engine is None:
            engine = make_engine(self.url)
            if engine.dialect.name == "sqlite":
                upgrade(engine)
            elif current_revision(engine) != head_revision():
                err_console.print(
                    f"[red]error:[/] the database at {safe_url(self.url)} is not at the current schema; "
                    "run `vigil db upgrade` first"
                )
                raise typer.Exit(2)
            self._engine = engine
        return self._engine


safe_url = display_url


def state(ctx: typer.Context) -> AppState:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppState):
        obj = AppState()
        ctx.find_root().obj = obj
    return obj


PolicyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        exists=True,
        dir_okay=False,
        help="Code-of-practice YAML (default: the shipped policy).",
    ),
]
