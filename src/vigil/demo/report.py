"""The demo's summary: figures from the database, a terminal table and one HTML page.

The HTML page is self-contained (inline CSS and SVG, no scripts, no external
assets) so it can be opened from disk or attached to an e-mail as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from rich.table import Table
from rich.text import Text
from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from vigil.actions.models import Action
from vigil.audit.models import Event
from vigil.audit.services import verify
from vigil.banks.models import Bank, BankEntry
from vigil.cases.models import Case
from vigil.db.engine import display_url as hide_password
from vigil.demo.review import ReviewShift
from vigil.items.models import Item, ScanState
from vigil.policy.models import Verdict
from vigil.signals.models import Signal
from vigil.statements.models import StatementOfReasons

CHART_WIDTH, LABEL_WIDTH, VALUE_WIDTH, ROW_HEIGHT = 720, 230, 70, 26
PALETTE = ["#2f6fb0", "#c0504d", "#4f9a5a", "#8064a2", "#d08a2b", "#3a9fa8", "#7f7f7f"]


@dataclass(frozen=True)
class DemoSummary:
    """Everything the demo reports; ``db_url`` is already rendered with the password hidden."""

    items_read: int
    items_stored: int
    duplicates: int
    rejected: int
    items_scanned: int
    signals_by_bank: dict[str, int]
    signals_by_kind: dict[str, int]
    verdicts_by_category: dict[str, int]
    cases_opened: int
    cases_by_category: dict[str, int]
    actions_by_kind: dict[str, int]
    statements: int
    content_dropped: int
    events: int
    audit_ok: bool
    elapsed_s: float
    db_url: str
    policy: str
    # Entries the match-rate safeguard took off automatic action, by bank.
    quarantined_by_bank: dict[str, int] = field(default_factory=dict)
    # The simulated review shift (decisions, four-eyes, strikes, appeals, queue left).
    review: ReviewShift | None = None

    @property
    def signals(self) -> int:
        """All signals; notice signals have no bank, so this is the sum by kind."""
        return sum(self.signals_by_kind.values())

    @property
    def verdicts(self) -> int:
        return sum(self.verdicts_by_category.values())

    @property
    def actions(self) -> int:
        return sum(self.actions_by_kind.values())


def _count(session: Session, stmt: Select[int]) -> int:
    return int(session.scalar(stmt) or 0)


def _grouped(
    session: Session, key: InstrumentedAttribute[str], stmt: Select[str, int]
) -> dict[str, int]:
    """``{key: count}`` ordered by count, largest first, then by key (stable output)."""
    rows = session.execute(stmt.group_by(key)).all()
    pairs = [(str(k), int(n)) for k, n in rows]
    return dict(sorted(pairs, key=lambda p: (-p[1], p[0])))


def collect_summary(
    session: Session,
    *,
    items_read: int,
    items_stored: int,
    duplicates: int,
    rejected: int,
    elapsed_s: float,
    db_url: str,
    policy_label: str,
) -> DemoSummary:
    """Combine the ingest counts the caller has with what the database now holds."""
    n = func.count()
    return DemoSummary(
        items_read=items_read,
        items_stored=items_stored,
        duplicates=duplicates,
        rejected=rejected,
        items_scanned=_count(
            session, select(n).select_from(Item).where(Item.scan_state == ScanState.SCANNED.value)
        ),
        signals_by_bank=_grouped(
            session,
            Bank.name,
            select(Bank.name, n).select_from(Signal).join(Bank, Signal.bank_id == Bank.id),
        ),
        signals_by_kind=_grouped(session, Signal.kind, select(Signal.kind, n)),
        verdicts_by_category=_grouped(session, Verdict.category, select(Verdict.category, n)),
        cases_opened=_count(session, select(n).select_from(Case)),
        cases_by_category=_grouped(session, Case.category, select(Case.category, n)),
        actions_by_kind=_grouped(session, Action.kind, select(Action.kind, n)),
        statements=_count(session, select(n).select_from(StatementOfReasons)),
        content_dropped=_count(
            session, select(n).select_from(Item).where(Item.content_retained.is_(False))
        ),
        events=_count(session, select(n).select_from(Event)),
        audit_ok=verify(session).ok,
        elapsed_s=elapsed_s,
        db_url=hide_password(db_url),
        policy=policy_label,
        quarantined_by_bank=_grouped(
            session,
            Bank.name,
            select(Bank.name, n)
            .select_from(BankEntry)
            .join(Bank, BankEntry.bank_id == Bank.id)
            .where(BankEntry.quarantined_at.is_not(None)),
        ),
    )


@dataclass(frozen=True)
class Bar:
    label: str
    short: str  # label cut to fit the chart; the full one is in the SVG <title>
    value: int
    y: int
    width: float
    colour: str


@dataclass(frozen=True)
class Chart:
    title: str
    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int


def bar_chart(title: str, data: Mapping[str, int]) -> Chart:
    """Geometry of a horizontal bar chart; the template only draws it."""
    top = max(data.values(), default=0)
    span = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = tuple(
        Bar(
            label=label,
            short=label if len(label) <= 30 else label[:29] + "…",
            value=value,
            y=i * ROW_HEIGHT,
            width=round(span * value / top, 1) if top else 0.0,
            colour=PALETTE[i % len(PALETTE)],
        )
        for i, (label, value) in enumerate(data.items())
    )
    height = max(1, len(bars)) * ROW_HEIGHT
    return Chart(title, bars, CHART_WIDTH, height, LABEL_WIDTH)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("vigil.demo", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda value: f"{value:,}"
    return env


def render_report(summary: DemoSummary, path: Path) -> Path:
    """Write the report to ``path`` (parent folders created) and return it."""
    tiles = [
        ("Items read", f"{summary.items_read:,}"),
        ("Items stored", f"{summary.items_stored:,}"),
        ("Duplicates", f"{summary.duplicates:,}"),
        ("Rejected lines", f"{summary.rejected:,}"),
        ("Items scanned", f"{summary.items_scanned:,}"),
        ("Signals", f"{summary.signals:,}"),
        ("Verdicts", f"{summary.verdicts:,}"),
        ("Cases opened", f"{summary.cases_opened:,}"),
        ("Actions", f"{summary.actions:,}"),
        ("Statements of reasons", f"{summary.statements:,}"),
        ("Content dropped", f"{summary.content_dropped:,}"),
        ("Entries quarantined", f"{sum(summary.quarantined_by_bank.values()):,}"),
        ("Audit events", f"{summary.events:,}"),
        ("Elapsed", f"{summary.elapsed_s:.1f} s"),
    ]
    charts = [
        bar_chart("Signals by bank", summary.signals_by_bank),
        bar_chart("Verdicts by category", summary.verdicts_by_category),
        bar_chart("Actions by kind", summary.actions_by_kind),
    ]
    tables = [
        ("Signals by kind", summary.signals_by_kind),
        ("Cases by category", summary.cases_by_category),
        ("Entries quarantined by the match-rate safeguard", summary.quarantined_by_bank),
    ]
    shift = summary.review
    if shift is not None:
        tiles[8:8] = [
            ("Cases decided", f"{sum(shift.decided.values()):,}"),
            ("Four-eyes confirmations", f"{shift.confirmed:,}"),
            ("Notifiers told the outcome", f"{shift.notices_answered:,}"),
            ("Strikes", f"{shift.strikes:,}"),
            ("Appeals decided", f"{sum(shift.appeals.values()):,}"),
            ("Still in the review queue", f"{sum(shift.queue_left.values()):,}"),
        ]
        charts.append(bar_chart("Review queue left, by category", shift.queue_left))
        tables += [
            ("Decisions by outcome", dict(shift.decided)),
            ("Account escalation steps reached", shift.escalations),
            ("Appeals by outcome", shift.appeals),
        ]
    html = (
        _environment()
        .get_template("report.html")
        .render(summary=summary, tiles=tiles, charts=charts, tables=tables)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


def summary_table(summary: DemoSummary) -> Table:
    """The same figures for the terminal; breakdowns are indented under their totals."""
    table = Table(title="Vigil demo", title_justify="left")
    table.add_column("Figure")
    table.add_column("Value", justify="right")

    def rows(label: str, total: int, parts: Mapping[str, int]) -> None:
        table.add_row(label, f"{total:,}")
        for name, value in parts.items():
            table.add_row(Text(f"  {name}"), f"{value:,}", style="dim")

    table.add_row("Items read", f"{summary.items_read:,}")
    table.add_row("Items stored", f"{summary.items_stored:,}")
    table.add_row("Duplicates", f"{summary.duplicates:,}")
    table.add_row("Rejected lines", f"{summary.rejected:,}")
    table.add_row("Items scanned", f"{summary.items_scanned:,}")
    rows("Signals", summary.signals, summary.signals_by_bank)
    rows("Verdicts", summary.verdicts, summary.verdicts_by_category)
    rows("Cases opened", summary.cases_opened, summary.cases_by_category)
    rows("Actions", summary.actions, summary.actions_by_kind)
    table.add_row("Statements of reasons", f"{summary.statements:,}")
    shift = summary.review
    if shift is not None:
        rows("Cases decided", sum(shift.decided.values()), shift.decided)
        table.add_row("Four-eyes confirmations", f"{shift.confirmed:,}")
        table.add_row("Notifiers told the outcome", f"{shift.notices_answered:,}")
        table.add_row("Strikes", f"{shift.strikes:,}")
        rows("Account escalation steps", sum(shift.escalations.values()), shift.escalations)
        rows("Appeals decided", sum(shift.appeals.values()), shift.appeals)
        rows("Still in the review queue", sum(shift.queue_left.values()), shift.queue_left)
    table.add_row("Content dropped", f"{summary.content_dropped:,}")
    quarantined = summary.quarantined_by_bank
    rows("Entries quarantined (match rate)", sum(quarantined.values()), quarantined)
    table.add_row("Audit events", f"{summary.events:,}")
    chain = "[green]verified[/green]" if summary.audit_ok else "[bold red]BROKEN[/bold red]"
    table.add_row("Audit chain", chain)
    table.add_row("Elapsed", f"{summary.elapsed_s:.1f} s")
    table.add_row("Database", Text(summary.db_url))  # Text: never read as rich markup
    table.add_row("Policy", Text(summary.policy))
    return table
