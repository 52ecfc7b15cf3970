"""``vigil notices``: who files notices, how often they are founded, who is warned or limited."""

from __future__ import annotations

import enum
from datetime import datetime

import typer
from rich import box
from rich.panel import Panel
from rich.table import Table
from sqlalchemy.orm import Session

from vigil.cli_support import PolicyFileOption, console, err_console, state
from vigil.db.base import utcnow
from vigil.notices.models import NotifierKind, NotifierStatus
from vigil.notices.services import NotifierView, find_notifier, list_notifiers, notices_of
from vigil.policy.services import load_active

app = typer.Typer(
    help="Notifiers and their standing: acknowledged, decided, warned or limited (DSA Art. 16, 23).",
    no_args_is_help=True,
)


class StatusFilter(enum.StrEnum):
    WARNED = "warned"
    LIMITED = "limited"


_STYLE = {
    NotifierStatus.OK: "green",
    NotifierStatus.WARNED: "yellow",
    NotifierStatus.LIMITED: "red",
}


def _when(value: datetime | None) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M}"


def _status(v: NotifierView) -> str:
    return f"[{_STYLE[v.status]}]{v.status.value}[/]"


@app.command("notifiers")
def notifiers_cmd(
    ctx: typer.Context,
    status: StatusFilter | None = typer.Option(
        None, "--status", "-s", help="Only notifiers warned or limited now."
    ),
    limit: int = typer.Option(100, "--limit", "-n", min=1, help="How many notifiers to list."),
    policy_file: PolicyFileOption = None,
) -> None:
    """List notifiers with their notices and how many were founded, most unfounded first.

    founded, unfounded and share count the notices decided within the policy's
    window (notices.unfounded.window), as of the notifier's last assessment.
    """
    policy, _ = load_active(policy_file)
    wanted = NotifierStatus(status.value) if status is not None else None
    with Session(state(ctx).engine()) as session:
        views = list_notifiers(session, policy=policy, now=utcnow(), status=wanted)[:limit]
    if not views:
        console.print("[green]No notifiers" + (f" {status.value}." if status else " yet.") + "[/]")
        return
    window = policy.notices.unfounded.window
    table = Table(
        title=f"Notifiers (decided notices in the last {window})",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("notifier", overflow="fold")  # never elided: it is what `show` takes
    table.add_column("kind", overflow="fold")
    for name in ("notices", "founded", "unfounded", "share"):
        table.add_column(name, justify="right")
    table.add_column("status")
    table.add_column("until", min_width=10, no_wrap=True)
    for v in views:
        table.add_row(
            v.notifier,
            v.kind,
            f"{v.notices:,}",
            f"{v.window_decided - v.window_unfounded:,}",
            f"{v.window_unfounded:,}",
            f"{v.window_share:.0%}" if v.window_decided else "-",
            _status(v),
            "-" if v.until is None else f"{v.until:%Y-%m-%d}",
        )
    console.print(table)


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    notifier: str = typer.Argument(
        ..., help="The notifier's reporter id, as the platform sends it."
    ),
    policy_file: PolicyFileOption = None,
) -> None:
    """Show one notifier: standing, counts, sanctions and latest notices (never their reasons)."""
    policy, _ = load_active(policy_file)
    with Session(state(ctx).engine()) as session:
        v = find_notifier(session, notifier, policy=policy, now=utcnow())
        if v is None:
            err_console.print(
                f"[red]error:[/] notifier: no notices from {notifier!r} have been stored"
            )
            raise typer.Exit(1)
        latest = [
            (n.platform_notice_id, n.category, n.received_at, n.outcome or "pending")
            for n in notices_of(session, notifier)
        ]
    rules = policy.notices.unfounded
    lines = [
        f"[bold]{v.notifier}[/] · {v.kind} · {_status(v)}",
        f"notices stored {v.notices:,} · refused at intake {v.refused:,}",
        f"all time: founded {v.founded:,} · unfounded {v.unfounded:,}",
        f"last {rules.window} (as of {_when(v.evaluated_at)}): decided {v.window_decided:,} · "
        f"unfounded {v.window_unfounded:,}"
        + (f" ({v.window_share:.0%})" if v.window_decided else ""),
        f"warned {_when(v.warned_at)} · limited until {_when(v.limited_until)}"
        + (f" ({v.per_day} a day)" if v.per_day is not None else ""),
    ]
    if v.kind == NotifierKind.TRUSTED_FLAGGER.value:
        lines.append(
            "[dim]A trusted flagger is never limited automatically (DSA Art. 22): "
            "report repeated unfounded notices to their Digital Services Coordinator.[/]"
        )
    console.print(Panel("\n".join(lines), title="Notifier"))
    table = Table("notice", "category", "received", "outcome", title="Latest notices")
    for pid, category, received, outcome in latest:
        table.add_row(pid, category, _when(received), outcome)
    console.print(table)
