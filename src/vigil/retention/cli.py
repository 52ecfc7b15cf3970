"""``vigil retention``: run the retention sweep."""

from __future__ import annotations

import typer

from vigil.cli_support import PolicyFileOption, console, state
from vigil.policy.services import load_active
from vigil.retention.services import sweep
from vigil.unit_of_work import unit_of_work

app = typer.Typer(
    help="Retention and deletion of content that matched nothing.", no_args_is_help=True
)


@app.command("run")
def run_cmd(
    ctx: typer.Context,
    policy_file: PolicyFileOption = None,
) -> None:
    """Drop the text and media of unmatched items whose retention period has passed."""
    policy, _ = load_active(policy_file)
    total = 0
    while True:
        with unit_of_work(state(ctx).engine()) as uow:
            n = sweep(uow, policy)
        total += n
        if n == 0:
            break
    console.print(f"[green]ok:[/] content of {total:,} unmatched item(s) dropped")
