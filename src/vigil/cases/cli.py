"""``vigil review``: the human review queue, case view and decisions."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.panel import Panel
from rich.table import Table

from vigil.cases.models import Outcome
from vigil.cases.services import CaseError, decide, queue, view
from vigil.cli_support import PolicyFileOption, console, err_console, state
from vigil.policy.schema import ActionKind
from vigil.policy.services import load_active
from vigil.unit_of_work import unit_of_work

app = typer.Typer(help="Review cases: list the queue, open a case, decide.", no_args_is_help=True)


def _due(deadline: datetime | None) -> str:
    if deadline is None:
        return "-"
    left = deadline - datetime.now(UTC)
    minutes = int(left.total_seconds() // 60)
    if minutes < 0:
        return f"[red]overdue {-minutes // 60}h{-minutes % 60:02d}m[/]"
    return f"{minutes // 60}h{minutes % 60:02d}m"


@app.command("queue")
def queue_cmd(
    ctx: typer.Context,
    category: str | None = typer.Option(
        None, "--category", "-c", help="Only this policy category."
    ),
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="How many cases to list."),
) -> None:
    """List cases awaiting a decision, soonest deadline first."""
    with unit_of_work(state(ctx).engine()) as uow:
        cases = queue(uow, category=category, limit=limit)
        table = Table(
            "case", "status", "category", "severity", "proposed", "due in", title="Review queue"
        )
        for c in cases:
            table.add_row(
                str(c.id), c.status, c.category, c.severity, c.proposed_action, _due(c.deadline_at)
            )
    console.print(table if cases else "[green]The queue is empty.[/]")


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    case_id: int = typer.Argument(..., help="Case number."),
    reviewer: str = typer.Option(
        ..., "--reviewer", "-r", help="Who is looking (the view is logged)."
    ),
) -> None:
    """Open a case: the item, its author, every signal with its bank entry, and notices."""
    try:
        with unit_of_work(state(ctx).engine()) as uow:
            v = view(uow, case_id, reviewer=reviewer)
            head = (
                f"[bold]Case {v.case.id}[/] · {v.case.status} · {v.case.category} · {v.case.severity} · "
                f"due {_due(v.case.deadline_at)}\nproposed action: {v.case.proposed_action} "
                f"(rule {v.verdict.rule_id})"
            )
            body = v.item.text if v.item.text is not None else "[dim](content not retained)[/]"
            item = (
                f"item {v.item.platform_item_id} ({v.item.kind}) by {v.account.platform_account_id} "
                f"[{v.account.country or '??'}] at {v.item.created_at:%Y-%m-%d %H:%M %Z}\n\n{body}"
            )
            signals = Table("signal", "kind", "matched", "why")
            for s in v.signals:
                why = s.reason
                if s.quarantined:
                    why += " (from a quarantined entry that may over-match: vigil bank quarantine)"
                signals.add_row(str(s.id), s.kind, s.matched, why)
    except CaseError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    console.print(Panel(head))
    console.print(Panel(item, title="content"))
    console.print(signals)


@app.command("decide")
def decide_cmd(
    ctx: typer.Context,
    case_id: int = typer.Argument(..., help="Case number."),
    outcome: Outcome = typer.Option(
        ..., "--outcome", "-o", help="violating, not_violating or escalate."
    ),
    reviewer: str = typer.Option(..., "--reviewer", "-r", help="Who decides (recorded)."),
    action: list[ActionKind] = typer.Option(
        [], "--action", "-a", help="Action(s) for a violating decision (default: the proposed one)."
    ),
    clause: str | None = typer.Option(
        None, "--clause", help="Policy category the content violates (default: the case's)."
    ),
    note: str | None = typer.Option(None, "--note", help="Internal note, never shown to the user."),
    policy_file: PolicyFileOption = None,
) -> None:
    """Decide a case. A violating decision applies its actions and issues statements of reasons."""
    policy, _ = load_active(policy_file)
    try:
        with unit_of_work(state(ctx).engine()) as uow:
            d = decide(
                uow,
                case_id,
                reviewer=reviewer,
                outcome=outcome,
                policy=policy,
                actions=action,
                clause=clause,
                note=note,
            )
            summary = f"case {case_id}: {d.outcome}" + (
                f", actions {', '.join(d.actions)}" if d.actions else ""
            )
    except CaseError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"[green]decided[/] {summary}")
