"""``vigil referral``: propose, approve, submit, show and list referrals to authorities."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import typer
from rich.table import Table

from vigil.cli_support import PolicyFileOption, console, err_console, state
from vigil.policy.schema import ReferralRoute
from vigil.policy.services import load_active
from vigil.referrals import ncmec
from vigil.referrals.models import ReferralStatus
from vigil.referrals.package import build_package
from vigil.referrals.services import ReferralError, approve, get, list_referrals, propose
from vigil.referrals.submitter import SubmitError, endpoint_from_env, sendable, submit
from vigil.unit_of_work import UnitOfWork, unit_of_work

app = typer.Typer(
    help="Referrals to authorities (DSA Art. 18, NCMEC, UK NCA): propose, approve, submit.",
    no_args_is_help=True,
)

ByOption = typer.Option(..., "--by", help="Who acts (recorded).")


@contextmanager
def _work(ctx: typer.Context) -> Iterator[UnitOfWork]:
    try:
        with unit_of_work(state(ctx).engine()) as uow:
            yield uow
    except (ReferralError, SubmitError) as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc


@app.command("propose")
def propose_cmd(
    ctx: typer.Context,
    decision_id: int = typer.Argument(..., help="A final violating decision."),
    by: str = ByOption,
    policy_path: PolicyFileOption = None,
) -> None:
    """Propose referring a decided violation to the authority its category names."""
    policy, _ = load_active(policy_path)
    with _work(ctx) as uow:
        r = propose(uow, decision_id, by, policy)
        console.print(
            f"referral #{r.id} proposed: {r.route} ({r.priority}), due "
            f"{r.deadline_at.isoformat()}; a legal officer approves it next"
        )


@app.command("approve")
def approve_cmd(
    ctx: typer.Context,
    referral_id: int = typer.Argument(...),
    by: str = ByOption,
    policy_path: PolicyFileOption = None,
) -> None:
    """Approve as a legal officer: the account's data is held and the package fixed."""
    policy, _ = load_active(policy_path)
    with _work(ctx) as uow:
        r = approve(uow, referral_id, by, policy)
        console.print(f"referral #{r.id} approved: hold #{r.hold_id}, package {r.package_sha256}")


def _reporter() -> ncmec.Reporter | None:
    platform = os.environ.get("VIGIL_REFERRAL_NCMEC_PLATFORM")
    email = os.environ.get("VIGIL_REFERRAL_NCMEC_EMAIL")
    if not platform or not email:
        return None
    return ncmec.Reporter(
        platform=platform,
        email=email,
        terms_url=os.environ.get("VIGIL_REFERRAL_NCMEC_TERMS_URL"),
    )


@app.command("submit")
def submit_cmd(
    ctx: typer.Context,
    referral_id: int | None = typer.Option(None, "--id", help="Only this referral."),
    endpoint: str | None = typer.Option(
        None,
        "--endpoint",
        help="Base URL (default $VIGIL_REFERRAL_<ROUTE>_URL); credentials only from the "
        "environment ($VIGIL_REFERRAL_<ROUTE>_TOKEN, or _USERNAME and _PASSWORD for ncmec).",
    ),
) -> None:
    """Send approved referrals (and retry failed ones), most urgent deadline first."""
    engine = state(ctx).engine()
    ids = [referral_id] if referral_id is not None else sendable(engine)
    failed = 0
    with httpx.Client(timeout=30) as client:
        for rid in ids:
            try:
                with unit_of_work(engine) as uow:
                    route = ReferralRoute(get(uow, rid).route)
                result = submit(
                    engine,
                    rid,
                    endpoint_from_env(route, endpoint),
                    client=client,
                    reporter=_reporter(),
                )
            except (ReferralError, SubmitError) as exc:
                err_console.print(f"[red]error:[/] referral #{rid}: {exc}")
                failed += 1
                continue
            if result.ok:
                console.print(f"referral #{rid} submitted: {result.external_id}")
            else:
                err_console.print(f"referral #{rid} not submitted: {result.reason}")
                failed += 1
    if not ids:
        console.print("nothing to submit")
    if failed:
        raise typer.Exit(1)


@app.command("show")
def show_cmd(ctx: typer.Context, referral_id: int = typer.Argument(...)) -> None:
    """A referral, its package summary and its chain of custody."""
    with _work(ctx) as uow:
        r = get(uow, referral_id)
        package = build_package(uow.session, r)
        table = Table("field", "value", title=f"Referral #{r.id}", show_header=False)
        for name, value in [
            ("status", r.status),
            ("route", r.route),
            ("destination", ", ".join(r.destination) or "-"),
            ("priority", r.priority),
            ("legal basis", r.legal_basis),
            ("decision", f"#{r.decision_id} (case #{r.case_id}, item #{r.item_id})"),
            ("detected", r.detected_at.isoformat()),
            ("proposed", f"{r.proposed_at.isoformat()} by {r.proposed_by}"),
            ("deadline", r.deadline_at.isoformat()),
            (
                "approved",
                f"{r.approved_at.isoformat()} by {r.approved_by}" if r.approved_at else "-",
            ),
            ("hold", f"#{r.hold_id}" if r.hold_id else "-"),
            (
                "submitted",
                f"{r.submitted_at.isoformat()} ({r.external_id})" if r.submitted_at else "-",
            ),
            ("last error", r.last_error or "-"),
            ("package SHA-256", r.package_sha256 or f"(preview) {package.sha256}"),
        ]:
            table.add_row(name, str(value))
        console.print(table)
        content = package.manifest["content"]
        reasoning = package.manifest["reasoning"]
        console.print(
            f"package: item {content['platform_item_id']}, text "
            f"{'included' if content['text'] is not None else 'not included'}, "
            f"{len(package.files)} file(s) "
            f"({sum(1 for f in package.files if f.data is not None)} with bytes); clause "
            f"{reasoning['clause']}; signals "
            + ", ".join(
                s["kind"] + (f"/{s['bank']}" if s["bank"] else "") for s in reasoning["signals"]
            )
        )
        files = Table("file", "SHA-256", "bytes", "opened by a person", title="Evidence files")
        for f in package.files:
            files.add_row(
                f.name,
                f.sha256,
                "yes" if f.data is not None else "hash only",
                "yes" if f.viewed_by_person else "no",
            )
        console.print(files)
        custody = Table("when", "who", "step", title="Chain of custody")
        for h in package.manifest["chain_of_custody"]["handling"]:
            custody.add_row(h["at"], h["actor"], h["step"])
        console.print(custody)


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    status: ReferralStatus | None = typer.Option(None, "--status", help="Only this status."),
) -> None:
    """Every referral, with its route, priority and deadline."""
    table = Table(
        "id", "status", "route", "priority", "decision", "deadline", "submitted", title="Referrals"
    )
    with _work(ctx) as uow:
        for r in list_referrals(uow, status=status.value if status else None):
            table.add_row(
                str(r.id),
                r.status,
                r.route,
                r.priority,
                f"#{r.decision_id}",
                r.deadline_at.isoformat(timespec="minutes"),
                r.submitted_at.isoformat(timespec="minutes") if r.submitted_at else "-",
            )
    console.print(table)
