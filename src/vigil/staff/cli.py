"""``vigil staff``: who works in Vigil and with which roles."""

from __future__ import annotations

import typer
from rich.table import Table

from vigil.cli_support import console, err_console, state
from vigil.staff.models import Role
from vigil.staff.services import StaffError, add_member, members, set_roles
from vigil.unit_of_work import unit_of_work

app = typer.Typer(help="Staff and their roles.", no_args_is_help=True)

RoleOption = typer.Option(..., "--role", help="A role (repeat for several).")


@app.command("add")
def add_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The person's name as they sign decisions."),
    role: list[Role] = RoleOption,
    by: str = typer.Option("admin", "--by", help="Who registers them."),
) -> None:
    """Register a staff member with their roles."""
    try:
        with unit_of_work(state(ctx).engine()) as uow:
            member = add_member(uow, name, role, by=by)
            console.print(f"added {member.name}: {', '.join(member.roles)}")
    except StaffError as exc:
        err_console.print(f"error: {exc}")
        raise typer.Exit(1) from exc


@app.command("roles")
def roles_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The staff member."),
    role: list[Role] = RoleOption,
    by: str = typer.Option("admin", "--by", help="Who changes them."),
) -> None:
    """Replace a staff member's roles."""
    try:
        with unit_of_work(state(ctx).engine()) as uow:
            member = set_roles(uow, name, role, by=by)
            console.print(f"{member.name}: {', '.join(member.roles)}")
    except StaffError as exc:
        err_console.print(f"error: {exc}")
        raise typer.Exit(1) from exc


@app.command("list")
def list_cmd(ctx: typer.Context) -> None:
    """Every staff member and their roles."""
    table = Table("name", "roles", "active", title="Staff")
    with unit_of_work(state(ctx).engine()) as uow:
        for m in members(uow):
            table.add_row(m.name, ", ".join(m.roles), "yes" if m.active else "no")
    console.print(table)
