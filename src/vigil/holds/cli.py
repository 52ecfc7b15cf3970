"""``vigil hold``: list legal holds, extend one at an authority's request, or release it."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.table import Table
from sqlalchemy import select

from vigil.cli_support import console, err_console, state
from vigil.holds.models import LegalHold
from vigil.holds.services import HoldError, extend, release
from vigil.staff.models import Role
from vigil.staff.services import StaffError, require_role
from vigil.unit_of_work import unit_of_work

app = typer.Typer(help="Legal holds (preservation).", no_args_is_help=True)


def _state(hold: LegalHold, now: datetime) -> str:
    if hold.released_at is not None:
        return "released"
    if hold.lapsed_at is not None or hold.expires_at <= now:
        return "lapsed"
    return "in force"


@app.command("list")
def list_cmd(ctx: typer.Context) -> None:
    """Every hold: what it covers, why, and until when."""
    table = Table("hold", "account", "item", "source", "legal basis", "until", "state")
    with unit_of_work(state(ctx).engine()) as uow:
        now = uow.now()
        for h in uow.session.scalars(select(LegalHold).order_by(LegalHold.id)):
            table.add_row(
                str(h.id),
                str(h.account_id),
                str(h.item_id or "all items"),
                h.source,
                h.legal_basis,
                f"{h.expires_at:%Y-%m-%d %H:%M}",
                _state(h, now),
            )
    console.print(table)


@app.command("extend")
def extend_cmd(
    ctx: typer.Context,
    hold_id: int = typer.Argument(..., help="The hold."),
    until: datetime = typer.Option(..., "--until", formats=["%Y-%m-%d"], help="New end (UTC)."),
    by: str = typer.Option(..., "--by", help="The legal officer recording it."),
    reason: str = typer.Option(..., "--reason", help="E.g. the authority's extension request."),
) -> None:
    """Keep a hold longer (an authority asked to extend the preservation)."""
    try:
        with unit_of_work(state(ctx).engine()) as uow:
            require_role(uow, by, Role.LEGAL_OFFICER, to="extend a legal hold")
            hold = extend(uow, hold_id, until=until.replace(tzinfo=UTC), by=by, reason=reason)
            console.print(f"hold #{hold.id} now lasts until {hold.expires_at:%Y-%m-%d}")
    except (HoldError, StaffError) as exc:
        err_console.print(f"error: {exc}")
        raise typer.Exit(1) from exc


@app.command("release")
def release_cmd(
    ctx: typer.Context,
    hold_id: int = typer.Argument(..., help="The hold."),
    by: str = typer.Option(..., "--by", help="The legal officer recording it."),
    reason: str = typer.Option(..., "--reason", help="E.g. the authority withdrew its request."),
) -> None:
    """End a hold early; what it kept goes at the next retention sweep."""
    try:
        with unit_of_work(state(ctx).engine()) as uow:
            require_role(uow, by, Role.LEGAL_OFFICER, to="release a legal hold")
            release(uow, hold_id, by=by, reason=reason)
            console.print(f"hold #{hold_id} released")
    except (HoldError, StaffError) as exc:
        err_console.print(f"error: {exc}")
        raise typer.Exit(1) from exc
