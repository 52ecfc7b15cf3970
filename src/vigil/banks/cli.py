"""``vigil bank``: create banks and import entries."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from vigil.banks.models import BankKind
from vigil.banks.services import BankError, import_file, list_banks
from vigil.cli_support import console, err_console, state
from vigil.unit_of_work import unit_of_work

app = typer.Typer(help="Hash, URL, domain and term banks of known content.", no_args_is_help=True)


@app.command("import")
def import_cmd(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        help="One entry a line, or CSV with a 'value' column (optional external_id, note, tags).",
    ),
    bank: str = typer.Option(..., "--bank", "-b", help="Bank name; created if new."),
    kind: BankKind | None = typer.Option(
        None, "--kind", "-k", help="Entry kind (needed when creating the bank)."
    ),
    category: str | None = typer.Option(
        None,
        "--category",
        "-c",
        help="Policy category the bank's matches belong to (needed when creating).",
    ),
    source: str = typer.Option(
        "local", "--source", help="Where the entries come from (provenance)."
    ),
) -> None:
    """Import entries from FILE into a bank; entries already present are skipped, bad lines reported."""
    try:
        with unit_of_work(state(ctx).engine()) as uow:
            result = import_file(
                uow, file, bank, kind=kind.value if kind else None, category=category, source=source
            )
    except BankError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    for line, reason in result.rejected:
        err_console.print(f"{file}:{line}: rejected: {reason}")
    console.print(
        f"[green]{result.added} added[/], {result.already_present} already present, "
        f"{len(result.rejected)} rejected -> bank {result.bank}"
    )


@app.command("list")
def list_cmd(ctx: typer.Context) -> None:
    """List banks with their kind, category, source and number of entries."""
    with unit_of_work(state(ctx).engine()) as uow:
        rows = list_banks(uow)
        table = Table("bank", "kind", "category", "source", "entries", "enabled")
        for b, count in rows:
            table.add_row(
                b.name, b.kind, b.category, b.source, f"{count:,}", "yes" if b.enabled else "no"
            )
    console.print(table)
