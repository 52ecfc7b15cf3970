"""``vigil retention``: run the retention sweep."""

from __future__ import annotations

import typer

from vigil.cli_support import PolicyFileOption, console, err_console, state
from vigil.policy.services import load_active
from vigil.retention.services import ErasureError, request_erasure, sweep, sweep_erasures
from vigil.unit_of_work import unit_of_work

app = typer.Typer(
    help="Retention and erasure: content past its period, accounts erased on request.",
    no_args_is_help=True,
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
    with unit_of_work(state(ctx).engine()) as uow:
        erased = sweep_erasures(uow)
    console.print(f"[green]ok:[/] content of {total:,} unmatched item(s) dropped")
    if erased:
        console.print(f"{erased:,} erasure(s) delayed by a legal hold completed")


@app.command("erase")
def erase_cmd(
    ctx: typer.Context,
    platform_account_id: str = typer.Argument(
        ..., help="The account whose user asked for erasure."
    ),
    by: str = typer.Option(..., "--by", help="Who records the request."),
) -> None:
    """Erase an account's content and personal data (GDPR Art. 17), except what a hold keeps."""
    try:
        with unit_of_work(state(ctx).engine()) as uow:
            account = request_erasure(uow, platform_account_id, by=by)
            done = account.erased_at is not None
    except ErasureError as exc:
        err_console.print(f"error: {exc}")
        raise typer.Exit(1) from exc
    if done:
        console.print(f"[green]erased[/] {platform_account_id}")
    else:
        console.print(
            f"[yellow]partly erased[/] {platform_account_id}: a legal hold keeps some data; "
            "`vigil retention run` finishes after it lapses"
        )
