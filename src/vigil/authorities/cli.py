"""``vigil authorities``: take in, verify, approve, refuse and answer requests from authorities."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.table import Table
from sqlalchemy.orm import Session

from vigil.authorities import services
from vigil.authorities.models import VerificationMethod
from vigil.authorities.production import produce
from vigil.authorities.report import build, tables
from vigil.authorities.safeguards import MANUAL_CODES
from vigil.authorities.schemas import RequestIn
from vigil.cli_support import PolicyFileOption, console, err_console, state
from vigil.holds.services import HoldError
from vigil.policy.services import load_active
from vigil.staff.services import StaffError
from vigil.unit_of_work import UnitOfWork, unit_of_work

app = typer.Typer(
    help="Requests and orders from authorities, with their safeguards.", no_args_is_help=True
)

ById = typer.Option(..., "--by", help="The staff member taking this step.")


@contextmanager
def _changes(ctx: typer.Context) -> Iterator[UnitOfWork]:
    """A unit of work whose refusals become a one-line error and exit status 1."""
    try:
        with unit_of_work(state(ctx).engine()) as uow:
            yield uow
    except (services.AuthorityError, StaffError, HoldError) as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="minutes") if value else "-"


@app.command("intake")
def intake_cmd(
    ctx: typer.Context,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The request as JSON."),
    by: str = typer.Option("intake", "--by", help="Who registers it."),
    policy_file: PolicyFileOption = None,
) -> None:
    """Register a request from a JSON file; an over-broad one is refused at once, with its code."""
    try:
        data = RequestIn.model_validate(json.loads(file.read_text(encoding="utf-8")))
    except json.JSONDecodeError as exc:
        err_console.print(f"[red]error:[/] {file}: not JSON ({exc.msg}, line {exc.lineno})")
        raise typer.Exit(1) from exc
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            err_console.print(f"[red]error:[/] {where}: {err['msg']}")
        raise typer.Exit(1) from exc
    policy, _ = load_active(policy_file)
    with _changes(ctx) as uow:
        req, refusals = services.intake_checked(uow, data, policy=policy, by=by)
        console.print(f"request #{req.id} ({req.kind}) {req.status}")
        for r in refusals:
            console.print(f"  refused: {r}")
    if refusals:
        raise typer.Exit(3)


@app.command("verify")
def verify_cmd(
    ctx: typer.Context,
    request_id: int,
    method: VerificationMethod = typer.Option(
        ..., "--method", help="The independent channel used."
    ),
    evidence: str = typer.Option(..., "--evidence", help="Where the proof of the check is kept."),
    failed: bool = typer.Option(False, "--failed", help="The check did not confirm the requester."),
    by: str = ById,
) -> None:
    """Record the independent check of the requester (a failed one refuses the request)."""
    with _changes(ctx) as uow:
        req = services.verify(
            uow, request_id, method=method, by=by, evidence_ref=evidence, genuine=not failed
        )
        console.print(f"request #{req.id} {req.status}")


@app.command("approve")
def approve_cmd(
    ctx: typer.Context,
    request_id: int,
    good_faith: str | None = typer.Option(
        None, "--good-faith", help="Emergency disclosure: the good-faith belief of danger."
    ),
    by: str = ById,
) -> None:
    """Approve a verified request (legal officer; two different ones for an emergency)."""
    with _changes(ctx) as uow:
        req = services.approve(uow, request_id, by=by, good_faith_reason=good_faith)
        console.print(f"request #{req.id} {req.status}")


@app.command("refuse")
def refuse_cmd(
    ctx: typer.Context,
    request_id: int,
    reason: str = typer.Option(..., "--reason", help="One of: " + ", ".join(MANUAL_CODES)),
    by: str = ById,
) -> None:
    """Refuse a request with a reason code."""
    with _changes(ctx) as uow:
        req = services.refuse(uow, request_id, reason_code=reason, by=by)
        console.print(f"request #{req.id} refused: {req.refusal_code}")


@app.command("produce")
def produce_cmd(
    ctx: typer.Context,
    request_id: int,
    out: Path = typer.Option(..., "--out", dir_okay=False, help="Where to write the package."),
    by: str = ById,
) -> None:
    """Build the package for an approved request and write it; prints its SHA-256."""
    with _changes(ctx) as uow:
        done = produce(uow, request_id, by=by)
    out.write_text(done.body, encoding="utf-8")
    p = done.production
    console.print(
        f"request #{request_id} produced: {len(p.account_ids)} account(s), {p.item_count} item(s), "
        f"{', '.join(p.categories)}; sha256 {p.package_sha256}"
    )


@app.command("preserve")
def preserve_cmd(
    ctx: typer.Context, request_id: int, by: str = ById, policy_file: PolicyFileOption = None
) -> None:
    """Place legal holds on the accounts a preservation request names."""
    policy, _ = load_active(policy_file)
    with _changes(ctx) as uow:
        placed = services.preserve(uow, request_id, by=by, policy=policy)
        for h in placed:
            console.print(f"hold #{h.id} on account {h.account_id} until {_when(h.expires_at)}")


@app.command("extend")
def extend_cmd(
    ctx: typer.Context,
    request_id: int,
    until: datetime = typer.Option(..., "--until", help="New end (ISO date-time, UTC)."),
    by: str = ById,
) -> None:
    """Keep what a preservation request holds for longer."""
    end = until if until.tzinfo else until.replace(tzinfo=UTC)
    with _changes(ctx) as uow:
        for h in services.extend_preservation(uow, request_id, until=end, by=by):
            console.print(f"hold #{h.id} until {_when(h.expires_at)}")


@app.command("give-effect")
def give_effect_cmd(
    ctx: typer.Context, request_id: int, by: str = ById, policy_file: PolicyFileOption = None
) -> None:
    """Carry out an order to act: a TCO removal order removes the content it names."""
    policy, _ = load_active(policy_file)
    with _changes(ctx) as uow:
        req = services.give_effect(uow, request_id, by=by, policy=policy)
        late = (
            req.comply_by is not None
            and req.effect_given_at is not None
            and req.effect_given_at > req.comply_by
        )
        console.print(f"request #{req.id} effect given{' LATE' if late else ''}")


@app.command("nondisclosure")
def nondisclosure_cmd(
    ctx: typer.Context,
    request_id: int,
    until: datetime | None = typer.Option(
        None,
        "--until",
        help="New end (ISO, UTC); a past time lifts it; omit: until further notice.",
    ),
    by: str = ById,
) -> None:
    """Record that the authority extended or lifted its non-disclosure term."""
    end = until if until is None or until.tzinfo else until.replace(tzinfo=UTC)
    with _changes(ctx) as uow:
        req = services.change_nondisclosure(uow, request_id, expires_at=end, by=by)
        console.print(
            f"request #{req.id}: non-disclosure until {_when(req.nondisclosure_expires_at)}"
        )


@app.command("notify-due")
def notify_due_cmd(ctx: typer.Context) -> None:
    """Tell users whose non-disclosure term has now expired."""
    with _changes(ctx) as uow:
        sent = services.notify_due(uow)
        console.print(f"{len(sent)} notice(s) sent")


@app.command("show")
def show_cmd(ctx: typer.Context, request_id: int) -> None:
    """One request: its steps and its targets (what each matched)."""
    with _changes(ctx) as uow:
        req = services.get(uow.session, request_id)
        table = Table("field", "value", title=f"Request #{req.id}")
        for name in (
            "reference", "kind", "status", "authority_name", "authority_country", "agency_type",
            "instrument", "data_categories", "received_at", "acknowledged_at", "comply_by",
            "verified_at", "verification_method", "approved_by", "produced_at",
            "effect_given_at", "refusal_code", "nondisclosure_basis",
            "nondisclosure_expires_at", "user_notified_at",
        ):  # fmt: skip
            value = getattr(req, name)
            table.add_row(name, _when(value) if isinstance(value, datetime) else str(value or "-"))
        console.print(table)
        targets = Table("type", "value", "account", "item", title="Targets")
        for t in services.targets_of(uow.session, req.id):
            targets.add_row(
                t.identifier_type, t.value, str(t.account_id or "-"), str(t.item_id or "-")
            )
        console.print(targets)


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help="Only this status."),
) -> None:
    """Requests, oldest first."""
    table = Table(
        "id", "kind", "authority", "country", "status", "received", "refusal", title="Requests"
    )
    with _changes(ctx) as uow:
        for r in services.list_requests(uow.session, status=status):
            table.add_row(
                str(r.id), r.kind, r.authority_name, r.authority_country, r.status,
                _when(r.received_at), r.refusal_code or "",
            )  # fmt: skip
    console.print(table)


@app.command("serve")
def serve_cmd(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8081, "--port", min=1, max=65535, help="Port to listen on."),
    policy_file: PolicyFileOption = None,
) -> None:
    """Serve the intake API (POST /v1/authorities/requests) with uvicorn."""
    import uvicorn

    from vigil.authorities.views import create_app

    policy, _ = load_active(policy_file)
    uvicorn.run(create_app(state(ctx).engine(), policy), host=host, port=port, log_level="info")


@app.command("report")
def report_cmd(
    ctx: typer.Context,
    since: datetime = typer.Option(
        datetime(2000, 1, 1), "--since", formats=["%Y-%m-%d"], help="First day (UTC)."
    ),
    until: datetime | None = typer.Option(
        None, "--until", formats=["%Y-%m-%d"], help="Day after the last (UTC); default: now."
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the figures as JSON."),
) -> None:
    """Requests per authority and country, and referrals per route and priority, for a period."""
    start = since.replace(tzinfo=UTC)
    end = until.replace(tzinfo=UTC) if until else datetime.now(UTC)
    with Session(state(ctx).engine()) as session:
        report = build(session, start, end)
    for table in tables(report):
        console.print(table)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report.as_json(), indent=2, sort_keys=True) + "\n")
        console.print(f"figures: {json_out}")
