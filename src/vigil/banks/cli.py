"""``vigil bank``: create and tune banks, import and export entries, withdraw entries."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from vigil.banks.formats import Format
from vigil.banks.models import BankKind
from vigil.banks.services import (
    BankError,
    create_bank,
    export_bank,
    get_bank,
    import_file,
    list_banks,
    newest_entries,
    set_bank_enabled,
    set_entry_enabled,
    update_bank,
)
from vigil.cli_support import PolicyFileOption, console, err_console, state
from vigil.rescans import cli as rescans_cli
from vigil.rescans.services import list_rescans
from vigil.safeguards.services import quarantined_entries, release_entry
from vigil.unit_of_work import UnitOfWork, unit_of_work

app = typer.Typer(
    help="Banks of known content: hashes (SHA-256, MD5, PDQ), exact texts, URLs, domains, "
    "terms and patterns, with provenance.",
    no_args_is_help=True,
)
entry_app = typer.Typer(
    help="Withdraw a single entry (with a reason) or restore it; release a quarantined entry.",
    no_args_is_help=True,
)
app.add_typer(entry_app, name="entry")

NO_RESCAN_HELP = "Only queue the rescan of earlier items; `vigil bank rescan` runs it later."

FORMAT_HELP = (
    "txt: one value a line; csv: value, external_id, note, tags (';'-separated), source; "
    "te: threatexchange dataset CSV (collab, signal_type, signal_str, category, tags)."
)


@contextmanager
def _changes(ctx: typer.Context) -> Iterator[UnitOfWork]:
    """A unit of work whose BankError becomes a clean error message and exit status 1."""
    try:
        with unit_of_work(state(ctx).engine()) as uow:
            yield uow
    except BankError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc


@app.command("create")
def create_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Bank name (unique)."),
    kind: BankKind = typer.Option(..., "--kind", "-k", help="What the entries are."),
    category: str = typer.Option(
        ..., "--category", "-c", help="Policy category that matches from this bank belong to."
    ),
    source: str = typer.Option("local", "--source", help="Where the entries come from."),
    description: str | None = typer.Option(None, "--description", help="Free-text description."),
    threshold: int | None = typer.Option(
        None, "--threshold", help="PDQ banks: largest Hamming distance that matches (default 31)."
    ),
    rollout: float = typer.Option(
        1.0, "--rollout", help="Share of items matched against the bank, 0 to 1 (staged roll-out)."
    ),
    negative: bool = typer.Option(
        False, "--negative", help="Known-benign content: its matches withhold positive ones."
    ),
    transforms: bool = typer.Option(
        False, "--transforms", help="PDQ banks: also match rotated and mirrored copies."
    ),
) -> None:
    """Create an empty bank with its matching settings."""
    with _changes(ctx) as uow:
        bank = create_bank(
            uow,
            name,
            kind=kind.value,
            category=category,
            source=source,
            description=description,
            threshold=threshold,
            rollout=rollout,
            negative=negative,
            match_transforms=transforms,
        )
        label = "negative " if bank.negative else ""
    console.print(f"[green]created[/] {label}{kind.value} bank {name}")


@app.command("import")
def import_cmd(
    ctx: typer.Context,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="File to import."),
    bank: str = typer.Option(..., "--bank", "-b", help="Bank name; created if new."),
    kind: BankKind | None = typer.Option(
        None, "--kind", "-k", help="Entry kind (needed when creating the bank)."
    ),
    category: str | None = typer.Option(
        None,
        "--category",
        "-c",
        help="Policy category the bank's matches belong to (needed when creating).",
    ),
    source: str = typer.Option(
        "local", "--source", help="Where the entries come from (provenance)."
    ),
    fmt: Format | None = typer.Option(
        None,
        "--format",
        "-f",
        help=f"File format; guessed from the file if left out. {FORMAT_HELP}",
    ),
    no_rescan: bool = typer.Option(False, "--no-rescan", help=NO_RESCAN_HELP),
    policy_file: PolicyFileOption = None,
) -> None:
    """Import entries from FILE into a bank; entries already present are skipped, bad lines reported.

    New entries are then matched against the items stored earlier (a rescan), and
    what they match goes through the policy like a live match.
    """
    with _changes(ctx) as uow:
        result = import_file(
            uow,
            file,
            bank,
            kind=kind.value if kind else None,
            category=category,
            source=source,
            fmt=fmt,
        )
    for line, reason in result.rejected:
        err_console.print(f"{file}:{line}: rejected: {reason}", highlight=False, soft_wrap=True)
    console.print(
        f"[green]{result.added} added[/], {result.already_present} already present, "
        f"{len(result.rejected)} rejected -> bank {result.bank}"
    )
    if result.rescan_id is not None:
        _rescan(ctx, bank, result.rescan_id, no_rescan, policy_file)


def _rescan(
    ctx: typer.Context, bank: str, rescan_id: int, queue_only: bool, policy_file: Path | None
) -> None:
    """Run the job just queued, or say how to run it later."""
    if queue_only:
        console.print(f"rescan #{rescan_id} queued; `vigil bank rescan {bank}` runs it")
        return
    engine = state(ctx).engine()
    with Session(engine) as session:
        jobs = [r for r in list_rescans(session, bank, unfinished=True) if r.id == rescan_id]
    rescans_cli.run_jobs(engine, jobs, policy_file)


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    bank: str = typer.Argument(..., help="Bank name."),
    fmt: Format = typer.Option(Format.CSV, "--format", "-f", help=FORMAT_HELP),
    out: Path | None = typer.Option(
        None, "--out", "-o", dir_okay=False, help="Write here instead of standard output."
    ),
) -> None:
    """Write a bank's enabled entries in a format that imports back as the same entries."""
    try:
        with Session(state(ctx).engine()) as session:
            if out is None:
                export_bank(session, bank, sys.stdout, fmt)
                return
            with out.open("w", encoding="utf-8", newline="") as fh:
                count = export_bank(session, bank, fh, fmt)
    except BankError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    err_console.print(f"{count} entries -> {out}")


@app.command("list")
def list_cmd(ctx: typer.Context) -> None:
    """List banks with their kind, category, entry counts and matching settings."""
    with unit_of_work(state(ctx).engine()) as uow:
        rows = list_banks(uow)
        table = Table(
            "bank", "kind", "category", "source", "entries", "enabled", "negative", "threshold",
            "rollout",
        )  # fmt: skip
        for s in rows:
            b = s.bank
            table.add_row(
                b.name,
                b.kind,
                b.category,
                b.source,
                f"{s.enabled_entries:,} of {s.entries:,}",
                "yes" if b.enabled else "no",
                "yes" if b.negative else "no",
                "-" if b.threshold is None else str(b.threshold),
                f"{b.rollout:.0%}",
            )
    console.print(table)


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Bank name."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="How many of the newest entries."),
) -> None:
    """Show a bank's settings and its newest entries with their provenance."""
    with Session(state(ctx).engine()) as session:
        try:
            bank = get_bank(session, name)
        except BankError as exc:
            err_console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(1) from exc
        console.print(f"[bold]{bank.name}[/] ({bank.kind}, category {bank.category})")
        settings = {
            "source": bank.source,
            "enabled": "yes" if bank.enabled else "no",
            "negative": "yes (known-benign)" if bank.negative else "no",
            "threshold": "-" if bank.threshold is None else str(bank.threshold),
            "rollout": f"{bank.rollout:.0%}",
            "transforms": "yes" if bank.match_transforms else "no",
            "created": bank.created_at.isoformat(timespec="seconds"),
            "quarantine": _held_count(session, bank.name),
        }
        for key, value in settings.items():
            console.print(f"  {key:<11}{value}", highlight=False)
        entries = newest_entries(session, bank, limit)
        console.print(f"newest {len(entries)} entries:" if entries else "no entries")
        for e in entries:
            value = e.value if len(e.value) <= 70 else e.value[:69] + "…"
            parts = [f"  #{e.id}", value, f"source={e.source}"]
            if e.external_id:
                parts.append(f"external_id={e.external_id}")
            if e.tags:
                parts.append("tags=" + ";".join(e.tags))
            parts.append(f"added={e.added_at.date().isoformat()}")
            parts.append("enabled" if e.enabled else f"disabled: {e.disabled_reason or ''}")
            if e.quarantined_at is not None:
                parts.append(f"QUARANTINED since {e.quarantined_at.isoformat(timespec='minutes')}")
            console.print("  ".join(parts), highlight=False, markup=False, soft_wrap=True)


@app.command("enable")
def enable_cmd(ctx: typer.Context, name: str = typer.Argument(..., help="Bank name.")) -> None:
    """Match items against the bank again."""
    with _changes(ctx) as uow:
        changed = set_bank_enabled(uow, name, True)
    console.print(f"bank {name} {'enabled' if changed else 'was already enabled'}")


@app.command("disable")
def disable_cmd(ctx: typer.Context, name: str = typer.Argument(..., help="Bank name.")) -> None:
    """Stop matching items against the bank; its entries and past signals stay."""
    with _changes(ctx) as uow:
        changed = set_bank_enabled(uow, name, False)
    console.print(f"bank {name} {'disabled' if changed else 'was already disabled'}")


@app.command("set")
def set_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Bank name."),
    threshold: int | None = typer.Option(
        None, "--threshold", help="PDQ banks: largest Hamming distance that matches."
    ),
    rollout: float | None = typer.Option(
        None, "--rollout", help="Share of items matched against the bank, 0 to 1."
    ),
) -> None:
    """Change a bank's threshold or roll-out share (applies from the next scan run)."""
    if threshold is None and rollout is None:
        err_console.print("[red]error:[/] give --threshold or --rollout")
        raise typer.Exit(2)
    with _changes(ctx) as uow:
        changes = update_bank(uow, name, threshold=threshold, rollout=rollout)
    if not changes:
        console.print(f"bank {name}: nothing changed")
    for setting, (old, new) in changes.items():
        console.print(f"bank {name}: {setting} {old} -> {new}")


@entry_app.command("disable")
def entry_disable_cmd(
    ctx: typer.Context,
    bank: str = typer.Argument(..., help="Bank name."),
    entry_id: int = typer.Argument(..., help="Entry id (see `vigil bank show`)."),
    reason: str = typer.Option(..., "--reason", "-r", help="Why the entry is withdrawn."),
) -> None:
    """Withdraw an entry without deleting it: it stops matching, its past signals stay."""
    with _changes(ctx) as uow:
        changed = set_entry_enabled(uow, bank, entry_id, False, reason=reason)
    console.print(f"entry {entry_id} {'disabled' if changed else 'was already disabled'}")


@entry_app.command("enable")
def entry_enable_cmd(
    ctx: typer.Context,
    bank: str = typer.Argument(..., help="Bank name."),
    entry_id: int = typer.Argument(..., help="Entry id (see `vigil bank show`)."),
    no_rescan: bool = typer.Option(False, "--no-rescan", help=NO_RESCAN_HELP),
    policy_file: PolicyFileOption = None,
) -> None:
    """Restore a withdrawn entry so it matches again, also on items stored while it was withdrawn."""
    with _changes(ctx) as uow:
        changed = set_entry_enabled(uow, bank, entry_id, True)
    console.print(f"entry {entry_id} {'enabled' if changed else 'was already enabled'}")
    if changed:
        with Session(state(ctx).engine()) as session:
            queued = [
                r.id
                for r in list_rescans(session, bank, unfinished=True)
                if r.first_entry_id == r.last_entry_id == entry_id
            ]
        if queued:
            _rescan(ctx, bank, queued[-1], no_rescan, policy_file)


app.command("rescan")(rescans_cli.rescan_cmd)
app.command("rescans")(rescans_cli.rescans_cmd)


def _held_count(session: Session, bank: str) -> str:
    held = len(quarantined_entries(session, bank))
    if not held:
        return "none"
    return f"{held} {'entry' if held == 1 else 'entries'} held back (see `vigil bank quarantine`)"


@app.command("quarantine")
def quarantine_cmd(
    ctx: typer.Context,
    bank: str | None = typer.Option(None, "--bank", "-b", help="Only this bank."),
) -> None:
    """List entries held back by the match-rate safeguard, for a person to release or disable."""
    with Session(state(ctx).engine()) as session:
        rows = quarantined_entries(session, bank)
    if not rows:
        console.print("no quarantined entries")
        return
    console.print(
        f"{len(rows)} quarantined {'entry' if len(rows) == 1 else 'entries'}: "
        "their matches open review cases instead of acting alone",
        highlight=False,
    )
    for q in rows:
        lines = [
            f"{q.bank} #{q.entry_id}  external_id={q.external_id or '-'}  source={q.source}  "
            f"since={q.quarantined_at.isoformat(timespec='minutes')}  "
            f"{'enabled' if q.enabled else 'disabled'}",
            f"  why: {q.reason}",
            f"  matches: {q.window_matches:,} in the window that tripped it, "
            f"{q.held_matches:,} held for review since",
        ]
        for line in lines:
            console.print(line, highlight=False, markup=False, soft_wrap=True)
    console.print(
        "release one with `vigil bank entry release BANK ENTRY_ID --reason ...`, "
        "or withdraw it with `vigil bank entry disable`",
        highlight=False,
    )


@entry_app.command("release")
def entry_release_cmd(
    ctx: typer.Context,
    bank: str = typer.Argument(..., help="Bank name."),
    entry_id: int = typer.Argument(..., help="Entry id (see `vigil bank quarantine`)."),
    reason: str = typer.Option(
        ..., "--reason", "-r", help="Why the entry may act on its own again."
    ),
) -> None:
    """Lift the quarantine: the entry acts on its own again, at the rate that tripped it."""
    with _changes(ctx) as uow:
        changed = release_entry(uow, bank, entry_id, reason)
    console.print(f"entry {entry_id} {'released' if changed else 'was not quarantined'}")
