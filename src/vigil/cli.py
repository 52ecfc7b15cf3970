"""The ``vigil`` command: one Typer app assembled from each domain's commands."""

from __future__ import annotations

import typer

from vigil import __version__
from vigil.appeals import cli as appeals_cli
from vigil.audit import cli as audit_cli
from vigil.authorities import cli as authorities_cli
from vigil.banks import cli as banks_cli
from vigil.cases import cli as cases_cli
from vigil.classifiers import cli as classifiers_cli
from vigil.cli_support import state
from vigil.db import cli as db_cli
from vigil.demo import cli as demo_cli
from vigil.holds import cli as holds_cli
from vigil.ingest import cli as ingest_cli
from vigil.notices import cli as notices_cli
from vigil.platform import cli as platform_cli
from vigil.policy import cli as policy_cli
from vigil.referrals import cli as referrals_cli
from vigil.retention import cli as retention_cli
from vigil.staff import cli as staff_cli
from vigil.statements import cli as statements_cli
from vigil.strikes import cli as strikes_cli

app = typer.Typer(
    help="Vigil: detect, decide, review and act on harmful content, and answer for it.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vigil {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: str | None = typer.Option(
        None,
        "--db",
        envvar="VIGIL_DB",
        help="Database URL (sqlite:///path.db or postgresql://...). Default: SQLite in the user data directory.",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Global options."""
    state(ctx).db_url = db


app.command("ingest")(ingest_cli.ingest)
app.command("demo")(demo_cli.demo)
app.add_typer(banks_cli.app, name="bank")
app.add_typer(policy_cli.app, name="policy")
app.add_typer(cases_cli.app, name="review")
app.add_typer(appeals_cli.app, name="appeal")
app.add_typer(strikes_cli.app, name="account")
app.add_typer(notices_cli.app, name="notices")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(staff_cli.app, name="staff")
app.add_typer(holds_cli.app, name="hold")
app.add_typer(retention_cli.app, name="retention")
app.add_typer(db_cli.app, name="db")
app.add_typer(classifiers_cli.app, name="model")
app.add_typer(statements_cli.app, name="statements")
app.add_typer(platform_cli.app, name="platform")
app.add_typer(referrals_cli.app, name="referral")
app.add_typer(authorities_cli.app, name="authorities")


def main() -> None:
    app()
