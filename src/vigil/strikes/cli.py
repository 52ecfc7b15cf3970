"""``vigil account``: an account's strikes, active weight and of-concern status with its reasons."""

from __future__ import annotations

import typer
from rich.panel import Panel
from rich.table import Table

from vigil.actions.services import lapse_expired
from vigil.cli_support import PolicyFileOption, console, err_console, state
from vigil.policy.services import load_active
from vigil.strikes.models import Strike
from vigil.strikes.services import StrikeError, account_by_platform_id, standing
from vigil.unit_of_work import unit_of_work

app = typer.Typer(help="Accounts: strikes and standing.", no_args_is_help=True)


def _state(strike: Strike, active: set[int]) -> str:
    if strike.removed_at is not None:
        return f"[cyan]removed on appeal #{strike.removed_by_appeal_id}[/]"
    return "[red]active[/]" if strike.id in active else "[dim]expired[/]"


@app.command("sweep")
def sweep_cmd(ctx: typer.Context) -> None:
    """Lift suspensions and account restrictions whose time is up (run it on a schedule)."""
    with unit_of_work(state(ctx).engine()) as uow:
        lifted = lapse_expired(uow)
        rows = [(a.id, a.kind, a.account_id) for a in lifted]
    for action_id, kind, account_id in rows:
        console.print(f"lifted {kind} #{action_id} on account #{account_id}")
    console.print(f"{len(rows)} action(s) lapsed")


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    platform_account_id: str = typer.Argument(..., help="The account's id on the platform."),
    policy_file: PolicyFileOption = None,
) -> None:
    """Show the account's strikes, active weight, next escalation step and of-concern status."""
    policy, _ = load_active(policy_file)
    try:
        with unit_of_work(state(ctx).engine()) as uow:
            account = account_by_platform_id(uow, platform_account_id)
            s = standing(uow, account.id, policy)
            active = {x.id for x in s.active}
            strikes = Table(
                "strike", "category", "weight", "issued", "expires", "state", title="Strikes"
            )
            for x in sorted([*s.active, *s.expired, *s.removed], key=lambda x: x.id):
                strikes.add_row(
                    str(x.id),
                    x.category,
                    str(x.weight),
                    f"{x.issued_at:%Y-%m-%d}",
                    f"{x.expires_at:%Y-%m-%d}",
                    _state(x, active),
                )
            step = (
                f"{s.next_step.action.value} at weight {s.next_step.at}"
                if s.next_step
                else "none (the last step is reached)"
            )
            concern = s.concern
            flag = "[red]yes[/]" if concern.of_concern else "[green]no[/]"
            head = (
                f"[bold]{account.platform_account_id}[/] · status {account.status}\n"
                f"active strike weight: {s.active_weight} · next step: {step}\n"
                f"of concern: {flag} (score {concern.score:.2f}, threshold {concern.threshold:g}; "
                f"decays by half every {policy.enforcement.of_concern.half_life})"
            )
            reasons = Table("reason", "ref", "category", "when", "weight now", title="Why")
            for r in concern.reasons:
                reasons.add_row(
                    r.kind, str(r.ref_id), r.category, f"{r.when:%Y-%m-%d}", f"{r.weight_now:.2f}"
                )
    except StrikeError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    console.print(Panel(head))
    console.print(strikes if strikes.row_count else "[green]No strikes.[/]")
    console.print(reasons if concern.reasons else "[green]Nothing in the record counts now.[/]")
