"""``vigil policy``: check a code of practice before using it, and read its rules.

``check`` prints diagnostics as ``FILE:LINE:COL: error: ...`` so editors and CI
can jump to them; the exit code tells scripts whether the policy may be used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vigil.policy.defaults import DEFAULT_POLICY_RESOURCE, default_policy_text
from vigil.policy.schema import Policy, Rule
from vigil.policy.validate import PolicyError, check_policy, load_policy_text, read_policy_file

app = typer.Typer(
    help="Check, and show the rules of, a code-of-practice policy file.",
    no_args_is_help=True,
)

PolicyFile = Annotated[
    Path,
    typer.Argument(
        help="Policy YAML file to read.",
        dir_okay=False,
        show_default=False,
    ),
]


def _stdout() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _read(path: Path) -> str:
    try:
        return read_policy_file(path)
    except PolicyError as exc:
        for issue in exc.issues:
            _stdout().print(str(issue), markup=False)
        raise typer.Exit(1) from exc


@app.command()
def check(file: PolicyFile) -> None:
    """Validate FILE and print every error as FILE:LINE:COL: error: MESSAGE.

    Exits with status 0 when the policy may be used, 1 when it has errors.
    """
    text = _read(file)
    issues = check_policy(text, str(file))
    out = _stdout()
    if issues:
        for issue in issues:
            out.print(str(issue), markup=False)
        plural = "s" if len(issues) != 1 else ""
        _stderr().print(f"[red]{len(issues)} error{plural} in {escape(str(file))}[/red]")
        raise typer.Exit(1)
    policy = load_policy_text(text, str(file))
    out.print(
        f"[green]ok: {escape(policy.policy)} {escape(policy.version)}, "
        f"{len(policy.categories)} categories, {len(policy.rules)} rules[/green]"
    )


def _filters(rule: Rule) -> str:
    cond = rule.when
    parts = [", ".join(kind.value for kind in cond.signals)]
    if cond.banks is not None:
        parts.append(f"banks: {', '.join(cond.banks)}")
    if cond.bank_categories is not None:
        parts.append(f"bank category: {', '.join(cond.bank_categories)}")
    if cond.notice_categories is not None:
        parts.append(f"notice category: {', '.join(cond.notice_categories)}")
    if cond.min_count > 1:
        parts.append(f"at least {cond.min_count}")
    return "\n".join(parts)


def rules_table(policy: Policy) -> Table:
    """The rules of ``policy`` in evaluation order, one row each."""
    table = Table(title=f"{policy.policy} {policy.version}", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("rule / category", no_wrap=True)
    table.add_column("when", overflow="fold", min_width=16)
    table.add_column("verdict", overflow="fold", min_width=19)
    for position, rule in enumerate(policy.rules, start=1):
        review = (
            "review " + rule.review.value + (f" within {rule.deadline}" if rule.deadline else "")
        )
        table.add_row(
            str(position),
            f"{escape(rule.id)}\n[dim]{escape(rule.category)}[/dim]",
            escape(_filters(rule)),
            f"{rule.severity.value}\n{rule.action.value}\n{review}",
        )
    return table


@app.command()
def show(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Policy YAML file to show; the default policy shipped with Vigil when omitted.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
) -> None:
    """Show the rules of FILE (or of the default policy) as a table.

    When several rules fire on one item, the most severe wins and, among equals,
    the one listed first.
    """
    if file is None:
        text, name = default_policy_text(), DEFAULT_POLICY_RESOURCE
    else:
        text, name = _read(file), str(file)
    try:
        policy = load_policy_text(text, name)
    except PolicyError as exc:
        for issue in exc.issues:
            _stdout().print(str(issue), markup=False)
        raise typer.Exit(1) from exc
    _stdout().print(rules_table(policy))
