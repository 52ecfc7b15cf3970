"""``vigil review``: queues, claims, case view, decisions, four-eyes confirmations, deadlines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich import box
from rich.panel import Panel
from rich.table import Column, Table

from vigil.cases.chart import draw_queue_chart
from vigil.cases.models import PRIORITY_TRUSTED_FLAGGER, Outcome, RefusalReason
from vigil.cases.services import (
    CaseError,
    assign,
    claim,
    claim_next,
    confirm,
    decide,
    queue,
    queue_stats,
    refuse_confirmation,
    release,
    sweep_deadlines,
    view,
)
from vigil.cli_support import PolicyFileOption, console, err_console, state
from vigil.policy.schema import ActionKind, Severity
from vigil.policy.services import load_active
from vigil.unit_of_work import UnitOfWork, unit_of_work

app = typer.Typer(
    help="Review cases: queues, claims, decisions, four-eyes confirmations, deadlines.",
    no_args_is_help=True,
)

ReviewerOption = typer.Option(..., "--reviewer", "-r", help="Who acts (recorded).")


@contextmanager
def _work(ctx: typer.Context) -> Iterator[UnitOfWork]:
    """A unit of work whose case errors end the command with a one-line message."""
    try:
        with unit_of_work(state(ctx).engine()) as uow:
            yield uow
    except CaseError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc


def _due(deadline: datetime | None, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> str:
    if deadline is None:
        return "-"
    left = deadline - now()
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
    severity: Severity | None = typer.Option(None, "--severity", "-s", help="Only this severity."),
    mine: bool = typer.Option(False, "--mine", help="Only cases held by --reviewer."),
    reviewer: str | None = typer.Option(
        None, "--reviewer", "-r", help="Who is asking (for --mine and --confirmations)."
    ),
    confirmations: bool = typer.Option(
        False,
        "--confirmations",
        help="Cases awaiting a second reviewer instead (without --reviewer's own decisions).",
    ),
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="How many cases to list."),
) -> None:
    """List cases in queue order: soonest deadline, trusted flaggers first, most severe.

    Deadlines are in UTC; `vigil review show` gives the proposed action and the evidence.
    """
    if mine and not reviewer:
        err_console.print("[red]error:[/] --mine needs --reviewer")
        raise typer.Exit(2)
    with _work(ctx) as uow:
        entries = queue(
            uow,
            category=category,
            severity=severity.value if severity else None,
            confirmations=confirmations,
            held_by_reviewer=reviewer if mine else None,
            exclude_decided_by=reviewer if confirmations else None,
            limit=limit,
        )
        title = "Awaiting confirmation" if confirmations else "Review queue"
        table = Table(
            Column("case", no_wrap=True),
            "status",
            Column("category", no_wrap=True),
            "severity",
            Column("deadline", no_wrap=True),
            Column("due in", no_wrap=True),
            "held by",
            title=title,
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            collapse_padding=True,
        )
        for e in entries:
            c = e.case
            table.add_row(
                f"{c.id} TF" if c.priority == PRIORITY_TRUSTED_FLAGGER else str(c.id),
                "awaiting" if c.status == "awaiting_confirmation" else c.status,
                c.category,
                c.severity,
                f"{c.deadline_at:%m-%d %H:%M}" if c.deadline_at else "-",
                _due(c.deadline_at, uow.now),
                e.held_by or "-",
            )
        if any(e.case.priority == PRIORITY_TRUSTED_FLAGGER for e in entries):
            table.caption = "TF: a trusted flagger's notice, first among equal deadlines"
    console.print(table if entries else "[green]The queue is empty.[/]")


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    case_id: int = typer.Argument(..., help="Case number."),
    reviewer: str = typer.Option(
        ..., "--reviewer", "-r", help="Who is looking (the view is logged)."
    ),
) -> None:
    """Open a case: the item, its author, every signal with its bank entry, and notices."""
    with _work(ctx) as uow:
        v = view(uow, case_id, reviewer=reviewer)
        holder = f" · held by {v.case.assignee}" if v.case.assignee else ""
        head = (
            f"[bold]Case {v.case.id}[/] · {v.case.status} · {v.case.category} · {v.case.severity} · "
            f"due {_due(v.case.deadline_at, uow.now)}{holder}\n"
            f"proposed action: {v.case.proposed_action} (rule {v.verdict.rule_id})"
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
    console.print(Panel(head))
    console.print(Panel(item, title="content"))
    console.print(signals)


@app.command("claim")
def claim_cmd(
    ctx: typer.Context,
    case_id: int | None = typer.Argument(None, help="Case number (or --next)."),
    reviewer: str = ReviewerOption,
    next_: bool = typer.Option(False, "--next", help="The first case in the queue nobody holds."),
    category: str | None = typer.Option(None, "--category", "-c", help="With --next: this queue."),
    severity: Severity | None = typer.Option(
        None, "--severity", "-s", help="With --next: this severity."
    ),
    confirmations: bool = typer.Option(
        False, "--confirmations", help="With --next: a case awaiting a second reviewer."
    ),
    policy_file: PolicyFileOption = None,
) -> None:
    """Hold a case so no one else works on it; the claim lapses after the policy's claim_for."""
    if (case_id is None) == (not next_):
        err_console.print("[red]error:[/] give a case number or --next (not both)")
        raise typer.Exit(2)
    policy, _ = load_active(policy_file)
    with _work(ctx) as uow:
        if case_id is not None:
            case = claim(uow, case_id, reviewer, policy)
        else:
            found = claim_next(
                uow,
                reviewer,
                policy,
                category,
                severity.value if severity else None,
                confirmations=confirmations,
            )
            if found is None:
                console.print(
                    "[green]Nothing to claim: every case is held or the queue is empty.[/]"
                )
                return
            case = found
        until = f"{case.claim_expires_at:%Y-%m-%d %H:%M %Z}" if case.claim_expires_at else "-"
        summary = (
            f"case {case.id} ({case.category}, {case.severity}) held by {reviewer} until {until}"
        )
    console.print(f"[green]claimed[/] {summary}")


@app.command("release")
def release_cmd(
    ctx: typer.Context,
    case_id: int = typer.Argument(..., help="Case number."),
    reviewer: str = ReviewerOption,
) -> None:
    """Give a case you hold back to the queue."""
    with _work(ctx) as uow:
        release(uow, case_id, reviewer)
    console.print(f"[green]released[/] case {case_id}")


@app.command("assign")
def assign_cmd(
    ctx: typer.Context,
    case_id: int = typer.Argument(..., help="Case number."),
    to: str = typer.Option(..., "--to", help="The reviewer who gets the case."),
    by: str = typer.Option(..., "--by", help="Who assigns it (recorded)."),
) -> None:
    """Give a case to a reviewer; it replaces any claim and holds until released or decided."""
    with _work(ctx) as uow:
        assign(uow, case_id, to, by)
    console.print(f"[green]assigned[/] case {case_id} to {to}")


@app.command("decide")
def decide_cmd(
    ctx: typer.Context,
    case_id: int = typer.Argument(..., help="Case number."),
    outcome: Outcome = typer.Option(
        ..., "--outcome", "-o", help="violating, not_violating or escalate."
    ),
    reviewer: str = ReviewerOption,
    action: list[ActionKind] = typer.Option(
        [], "--action", "-a", help="Action for a violating decision; repeat for several."
    ),
    clause: str | None = typer.Option(
        None, "--clause", help="Policy category the content violates (required when violating)."
    ),
    note: str | None = typer.Option(None, "--note", help="Internal note, never shown to the user."),
    message: str | None = typer.Option(
        None, "--message", help="What the affected user is told (kept apart from --note)."
    ),
    policy_file: PolicyFileOption = None,
) -> None:
    """Decide a case. A violating decision applies its actions, or waits for a second reviewer."""
    policy, _ = load_active(policy_file)
    with _work(ctx) as uow:
        d = decide(
            uow,
            case_id,
            reviewer=reviewer,
            outcome=outcome,
            policy=policy,
            actions=action,
            clause=clause,
            note=note,
            user_message=message,
        )
        summary = f"case {case_id}: {d.outcome}" + (
            f", actions {', '.join(d.actions)}" if d.actions else ""
        )
        waiting = d.status == "awaiting_confirmation"
    if waiting:
        console.print(
            f"[yellow]awaiting confirmation[/] {summary}: a second reviewer confirms it "
            f"(vigil review confirm {case_id}) before anything is applied"
        )
    else:
        console.print(f"[green]decided[/] {summary}")


@app.command("confirm")
def confirm_cmd(
    ctx: typer.Context,
    case_id: int = typer.Argument(..., help="Case number."),
    reviewer: str = ReviewerOption,
    policy_file: PolicyFileOption = None,
) -> None:
    """Confirm another reviewer's four-eyes decision; its actions are applied now."""
    policy, _ = load_active(policy_file)
    with _work(ctx) as uow:
        d = confirm(uow, case_id, reviewer, policy)
        summary = f"case {case_id}: {d.outcome} by {d.reviewer}, confirmed by {d.confirmed_by}"
    console.print(f"[green]confirmed[/] {summary}")


@app.command("refuse")
def refuse_cmd(
    ctx: typer.Context,
    case_id: int = typer.Argument(..., help="Case number."),
    reviewer: str = ReviewerOption,
    reason: RefusalReason = typer.Option(..., "--reason", help="Why the decision goes back."),
    note: str | None = typer.Option(None, "--note", help="Internal note for the reviewers."),
) -> None:
    """Refuse to confirm a four-eyes decision: nothing is applied and the case is open again."""
    with _work(ctx) as uow:
        refuse_confirmation(uow, case_id, reviewer, reason, note)
    console.print(f"[yellow]refused[/] case {case_id} is back in the queue ({reason.value})")


@app.command("sweep")
def sweep_cmd(ctx: typer.Context) -> None:
    """Record every case past its deadline as a missed deadline (once per case); run it often."""
    total = 0
    while True:
        with _work(ctx) as uow:
            n = sweep_deadlines(uow)
        total += n
        if n == 0:
            break
    console.print(f"[green]ok:[/] {total:,} case(s) newly past their deadline")


@app.command("stats")
def stats_cmd(
    ctx: typer.Context,
    chart: Path | None = typer.Option(
        None, "--chart", dir_okay=False, help="Also draw open against overdue per queue (PNG)."
    ),
) -> None:
    """Per queue (category, severity): open, held, awaiting confirmation, overdue, deadlines missed."""
    if chart is not None and chart.suffix.lower() != ".png":
        err_console.print(f"[red]error:[/] --chart: {chart} must end in .png")
        raise typer.Exit(2)
    with _work(ctx) as uow:
        stats = queue_stats(uow)
    table = Table(
        Column("category", no_wrap=True),
        "severity",
        "open",
        "held",
        "awaiting confirmation",
        "overdue now",
        "deadlines missed",
        title="Review queues",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for s in stats:
        table.add_row(
            s.category,
            s.severity,
            str(s.open),
            str(s.held),
            str(s.awaiting_confirmation),
            f"[red]{s.overdue}[/]" if s.overdue else "0",
            str(s.deadlines_missed),
        )
    console.print(table if stats else "[green]No cases yet.[/]")
    if chart is not None:
        draw_queue_chart(stats, chart)
        console.print(f"chart written: {chart}")
