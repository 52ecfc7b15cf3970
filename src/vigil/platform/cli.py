"""``vigil platform``: webhook endpoints, delivery, pull-API tokens and the API server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from vigil.cli_support import console, err_console, state
from vigil.platform import services
from vigil.platform.feed import FEED_TYPES
from vigil.unit_of_work import UnitOfWork, unit_of_work

app = typer.Typer(
    help="Send actions to the platform: signed webhooks, and a pull API for polling.",
    no_args_is_help=True,
)
webhook_app = typer.Typer(
    help="Webhook endpoints: where events are POSTed, signed with a secret from the environment.",
    no_args_is_help=True,
)
token_app = typer.Typer(help="Bearer tokens for the pull API.", no_args_is_help=True)
app.add_typer(webhook_app, name="webhook")
app.add_typer(token_app, name="token")


@contextmanager
def _changes(ctx: typer.Context) -> Iterator[UnitOfWork]:
    """A unit of work whose PlatformError becomes a one-line error and exit status 1."""
    try:
        with unit_of_work(state(ctx).engine()) as uow:
            yield uow
    except services.PlatformError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


@webhook_app.command("add")
def webhook_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Endpoint name (unique)."),
    url: str = typer.Argument(..., help="Where to POST events (https; http only to loopback)."),
    secret_env: str = typer.Option(
        ...,
        "--secret-env",
        help="Name of the environment variable holding the signing secret (the secret is never stored).",
    ),
    events: list[str] | None = typer.Option(
        None,
        "--events",
        help=f"Event types to send (repeat or comma-separate; default all): {', '.join(FEED_TYPES)}.",
    ),
    from_start: bool = typer.Option(
        False, "--from-start", help="Also send every earlier event in the log, not only new ones."
    ),
    allow_http: bool = typer.Option(
        False, "--allow-http", help="Allow a plain-http URL that is not on loopback."
    ),
) -> None:
    """Register a webhook endpoint."""
    with _changes(ctx) as uow:
        endpoint = services.add_endpoint(
            uow,
            name=name,
            url=url,
            secret_env=secret_env,
            event_types=_split(events),
            from_start=from_start,
            allow_http=allow_http,
        )
        types = ", ".join(endpoint.event_types) or "all feed types"
    console.print(f"[green]ok:[/] webhook {name!r} -> {services.safe_url(url)} ({types})")


@webhook_app.command("list")
def webhook_list(ctx: typer.Context) -> None:
    """Show endpoints and where each one's delivery stands."""
    with Session(state(ctx).engine()) as session:
        rows = services.endpoint_statuses(session)
    table = Table(
        "name", "url", "events", "active", "cursor", "delivered", "attempts", "next try",
        "last status", "last error", "dead letters",
    )  # fmt: skip
    for r in rows:
        d = r.delivery
        table.add_row(
            r.endpoint.name,
            services.safe_url(r.endpoint.url),
            ", ".join(r.endpoint.event_types) or "all",
            "yes" if r.endpoint.active else "no",
            str(d.cursor_seq),
            str(d.delivered),
            str(d.attempts),
            services.when(d.next_attempt_at),
            str(d.last_status) if d.last_status is not None else "-",
            d.last_error or "-",
            str(r.dead_letters),
        )
    console.print(table)


@webhook_app.command("disable")
def webhook_disable(
    ctx: typer.Context, name: str = typer.Argument(..., help="Endpoint name.")
) -> None:
    """Pause deliveries to an endpoint; it keeps its place and catches up when enabled."""
    with _changes(ctx) as uow:
        services.set_endpoint_active(uow, name, False)
    console.print(f"[green]ok:[/] webhook {name!r} disabled")


@webhook_app.command("enable")
def webhook_enable(
    ctx: typer.Context, name: str = typer.Argument(..., help="Endpoint name.")
) -> None:
    """Resume deliveries to an endpoint from where it stopped."""
    with _changes(ctx) as uow:
        services.set_endpoint_active(uow, name, True)
    console.print(f"[green]ok:[/] webhook {name!r} enabled")


@webhook_app.command("dead-letters")
def webhook_dead_letters(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, help="Only this endpoint's dead letters."),
) -> None:
    """Events an endpoint never accepted; the platform can fetch them by cursor from the pull API."""
    try:
        with Session(state(ctx).engine()) as session:
            letters = services.dead_letters(session, name)
    except services.PlatformError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    table = Table("endpoint id", "seq", "event id", "attempts", "last status", "last error", "when")
    for d in letters:
        table.add_row(
            str(d.endpoint_id), str(d.event_seq), d.event_id, str(d.attempts),
            str(d.last_status) if d.last_status is not None else "-", d.last_error or "-",
            services.when(d.dead_lettered_at),
        )  # fmt: skip
    console.print(table)


@app.command("deliver")
def deliver_cmd(
    ctx: typer.Context,
    loop: bool = typer.Option(False, "--loop", help="Keep delivering until interrupted."),
    interval: float = typer.Option(
        5.0, "--interval", min=0.1, help="Seconds to wait between passes with --loop."
    ),
    max_attempts: int = typer.Option(
        8, "--max-attempts", min=1, help="Failed tries before an event is dead-lettered."
    ),
) -> None:
    """Send pending events to every active webhook endpoint (one pass, or --loop)."""
    import httpx

    from vigil.platform.webhooks import DeliveryReport, DeliverySettings, deliver_loop, deliver_once

    engine = state(ctx).engine()
    settings = DeliverySettings(max_attempts=max_attempts)

    def show(report: DeliveryReport) -> None:
        for e in report.endpoints:
            if e.skipped:
                err_console.print(f"[yellow]{e.name}:[/] skipped: {e.skipped}")
            elif e.delivered or e.failed:
                console.print(
                    f"{e.name}: {e.delivered} delivered, {e.failed} failed, "
                    f"{e.dead_lettered} dead-lettered"
                )

    with httpx.Client() as client:
        if not loop:
            report = deliver_once(engine, client=client, settings=settings)
            show(report)
            console.print(
                f"[green]ok:[/] {report.delivered} delivered, {report.failed} failed, "
                f"{report.dead_lettered} dead-lettered"
            )
            return
        try:
            deliver_loop(
                engine, client=client, interval=interval, settings=settings, on_report=show
            )
        except KeyboardInterrupt:
            console.print("stopped")


@token_app.command("create")
def token_create(
    ctx: typer.Context, name: str = typer.Argument(..., help="Token name (unique).")
) -> None:
    """Create a pull-API token and print it once; only its hash is stored."""
    with _changes(ctx) as uow:
        _, token = services.create_token(uow, name)
    err_console.print(f"token {name!r} created; it is shown only now:")
    typer.echo(token)


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, name: str = typer.Argument(..., help="Token name.")) -> None:
    """Revoke a token; requests with it get 401 from now on."""
    with _changes(ctx) as uow:
        services.revoke_token(uow, name)
    console.print(f"[green]ok:[/] token {name!r} revoked")


@token_app.command("list")
def token_list(ctx: typer.Context) -> None:
    """Show tokens (names and dates; the tokens themselves are not stored)."""
    with Session(state(ctx).engine()) as session:
        rows = services.list_tokens(session)
    table = Table("name", "created", "revoked")
    for t in rows:
        table.add_row(t.name, services.when(t.created_at), services.when(t.revoked_at))
    console.print(table)


@app.command("serve")
def serve_cmd(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", min=1, max=65535, help="Port to listen on."),
) -> None:
    """Serve the pull API (GET /v1/platform/feed) with uvicorn."""
    import uvicorn

    from vigil.platform.views import create_app

    uvicorn.run(create_app(state(ctx).engine()), host=host, port=port, log_level="info")
