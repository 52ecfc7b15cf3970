"""``vigil appeal``: file, list, claim, decide and show appeals (DSA Art. 20)."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.panel import Panel
from rich.table import Table

from vigil.appeals import services
from vigil.appeals.models import AppealOutcome, AppellantKind
from vigil.appeals.services import AppealError
from vigil.cli_support import PolicyFileOption, console, err_console, state
from vigil.policy.services import load_active
from vigil.unit_of_work import unit_of_work

app = typer.Typer(
    help="Appeals against decisions: file, queue, claim, decide, show.", no_args_is_help=True
)


def _due(deadline: datetime) -> str:
    minutes = int((deadline - datetime.now(UTC)).total_seconds() // 60)
    if minutes < 0:
        return f"[red]overdue {-minutes // 60}h{-minutes % 60:02d}m[/]"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _fail(exc: AppealError) -> typer.Exit:
    err_console.print(f"[red]error:[/] {exc}")
    return typer.Exit(1)


@app.command("file")
def file_cmd(
    ctx: typer.Context,
    appellant: str = typer.Option(
        ..., "--appellant", help="Who appeals: the account's platform id, or the notifier."
    ),
    action: int | None = typer.Option(None, "--action", help="The action appealed (automated)."),
    decision: int | None = typer.Option(None, "--decision", help="The decision appealed."),
    kind: AppellantKind = typer.Option(
        AppellantKind.AFFECTED_USER, "--kind", help="affected_user or notifier."
    ),
    reason: str | None = typer.Option(
        None, "--reason", help="The appellant's reasons (kept on the appeal only)."
    ),
    policy_file: PolicyFileOption = None,
) -> None:
    """File an appeal against a decision or an automated action."""
    policy, _ = load_active(policy_file)
    try:
        with unit_of_work(state(ctx).engine()) as uow:
            appeal = services.file(
                uow,
                action_id=action,
                decision_id=decision,
                appellant=appellant,
                appellant_kind=kind.value,
                reason=reason,
                policy=policy,
            )
            summary = f"appeal {appeal.id} against {appeal.subject}, due {appeal.deadline_at:%Y-%m-%d %H:%M %Z}"
    except AppealError as exc:
        raise _fail(exc) from exc
    console.print(f"[green]filed[/] {summary}")


@app.command("queue")
def queue_cmd(
    ctx: typer.Context,
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="How many appeals to list."),
) -> None:
    """List open appeals, soonest deadline first."""
    with unit_of_work(state(ctx).engine()) as uow:
        appeals = services.queue(uow, limit=limit)
        now = uow.now()
        table = Table("appeal", "against", "by", "filed", "due in", "held by", title="Appeals")
        for a in appeals:
            held = a.claim_expires_at is not None and a.claim_expires_at > now
            table.add_row(
                str(a.id),
                a.subject,
                a.appellant_kind,
                f"{a.filed_at:%Y-%m-%d}",
                _due(a.deadline_at),
                (a.assignee or "-") if held else "-",
            )
    console.print(table if appeals else "[green]No open appeals.[/]")


@app.command("claim")
def claim_cmd(
    ctx: typer.Context,
    appeal_id: int = typer.Argument(..., help="Appeal number."),
    reviewer: str = typer.Option(..., "--reviewer", "-r", help="Who takes the appeal."),
    policy_file: PolicyFileOption = None,
) -> None:
    """Hold an appeal so nobody else decides it meanwhile (for the policy's review.claim_for)."""
    policy, _ = load_active(policy_file)
    try:
        with unit_of_work(state(ctx).engine()) as uow:
            appeal = services.claim(uow, appeal_id, reviewer, policy)
            until = appeal.claim_expires_at
    except AppealError as exc:
        raise _fail(exc) from exc
    console.print(f"[green]claimed[/] appeal {appeal_id} until {until:%Y-%m-%d %H:%M %Z}")


@app.command("decide")
def decide_cmd(
    ctx: typer.Context,
    appeal_id: int = typer.Argument(..., help="Appeal number."),
    reviewer: str = typer.Option(
        ..., "--reviewer", "-r", help="Who decides (not the original decider)."
    ),
    outcome: AppealOutcome = typer.Option(..., "--outcome", "-o", help="upheld or reversed."),
    reasoning: str = typer.Option(..., "--reasoning", help="Why; sent to the appellant."),
    policy_file: PolicyFileOption = None,
) -> None:
    """Decide an appeal; a reversal restores the content or account and removes the strike."""
    policy, _ = load_active(policy_file)
    try:
        with unit_of_work(state(ctx).engine()) as uow:
            d = services.decide(
                uow,
                appeal_id,
                reviewer=reviewer,
                outcome=outcome,
                reasoning=reasoning,
                policy=policy,
            )
            parts = [f"appeal {appeal_id}: {d.appeal.outcome}"]
            if d.reversed_actions:
                parts.append(f"{len(d.reversed_actions)} action(s) reversed")
            if d.removed_strikes:
                parts.append(f"{len(d.removed_strikes)} strike(s) removed")
            if d.needs_new_review:
                parts.append(f"item #{d.appeal.item_id} reopened for a new review")
    except AppealError as exc:
        raise _fail(exc) from exc
    console.print("[green]decided[/] " + ", ".join(parts))


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    appeal_id: int = typer.Argument(..., help="Appeal number."),
) -> None:
    """Show an appeal, the appellant's reasons and the answer."""
    try:
        with unit_of_work(state(ctx).engine()) as uow:
            a = services.get(uow, appeal_id)
            head = (
                f"[bold]Appeal {a.id}[/] · {a.status} · against {a.subject} "
                f"(actions {', '.join(str(i) for i in a.action_ids) or 'none'})\n"
                f"by {a.appellant_kind} {a.appellant} · told {a.told_at:%Y-%m-%d} · "
                f"filed {a.filed_at:%Y-%m-%d %H:%M} · due {a.deadline_at:%Y-%m-%d %H:%M %Z}"
            )
            if a.decided_at is not None:
                head += (
                    f"\ndecided {a.outcome} by {a.decided_by} at {a.decided_at:%Y-%m-%d %H:%M %Z}"
                )
            reason = a.reason or "[dim](no reasons given)[/]"
            answer = a.answer
    except AppealError as exc:
        raise _fail(exc) from exc
    console.print(Panel(head))
    console.print(Panel(reason, title="appellant's reasons"))
    if answer is not None:
        console.print(Panel(answer, title="answer"))
