"""The demo summary reads the right figures from the database and renders them faithfully."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from vigil.actions.models import Action
from vigil.audit.models import Event
from vigil.banks.models import Bank, BankEntry
from vigil.cases.models import Case
from vigil.db.engine import display_url as hide_password
from vigil.demo.report import (
    DemoSummary,
    bar_chart,
    collect_summary,
    render_report,
    summary_table,
)
from vigil.items.models import Account, Item
from vigil.policy.models import PolicyVersion, Verdict
from vigil.signals.models import Signal
from vigil.statements.models import StatementOfReasons
from vigil.unit_of_work import unit_of_work

T0 = datetime(2026, 10, 1, tzinfo=UTC)
INGEST = {"items_read": 12, "items_stored": 10, "duplicates": 1, "rejected": 1}


def _summary(**changes: object) -> DemoSummary:
    fields: dict[str, object] = {
        "items_read": 50_005,
        "items_stored": 49_990,
        "duplicates": 10,
        "rejected": 5,
        "items_scanned": 49_990,
        "signals_by_bank": {"demo-spam-domains": 150, "demo-terrorism-hashes": 75},
        "signals_by_kind": {"domain": 150, "sha256": 75, "notice": 100},
        "verdicts_by_category": {"spam": 148, "terrorism": 302},
        "cases_opened": 217,
        "cases_by_category": {"terrorism": 201, "hate": 16},
        "actions_by_kind": {"remove_content": 333, "suspend_account": 12},
        "statements": 345,
        "content_dropped": 49_123,
        "events": 98_765,
        "audit_ok": True,
        "elapsed_s": 12.34,
        "db_url": "sqlite:///out/demo/vigil.db",
        "policy": "default-eu v1",
    }
    fields.update(changes)
    return DemoSummary(**fields)  # type: ignore[arg-type]


def test_render_report_writes_figures_and_charts(tmp_path: Path) -> None:
    path = render_report(_summary(), tmp_path / "nested" / "report.html")
    assert path == tmp_path / "nested" / "report.html"
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    for figure in ("50,005", "49,990", "49,123", "98,765", "345", "217", "12.3 s", "verified"):
        assert figure in html, figure
    assert html.count("<svg") == 3
    for label in (
        "demo-spam-domains",
        "demo-terrorism-hashes",
        "remove_content",
        "suspend_account",
    ):
        assert re.search(rf"<text[^>]*>{label}</text>", html), label
    assert "Signals by bank" in html
    assert "Verdicts by category" in html
    assert "Actions by kind" in html
    assert "sqlite:///out/demo/vigil.db" in html
    assert "default-eu v1" in html
    assert "<script" not in html
    assert "<link" not in html
    assert "src=" not in html


def test_report_escapes_and_flags_a_broken_chain(tmp_path: Path) -> None:
    hostile = "<script>alert(1)</script>"
    summary = _summary(policy=hostile, audit_ok=False, signals_by_bank={hostile: 3})
    html = render_report(summary, tmp_path / "r.html").read_text(encoding="utf-8")
    assert hostile not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "BROKEN" in html


def test_bar_chart_scales_to_the_largest_value() -> None:
    chart = bar_chart("x", {"a": 200, "b": 100, "c": 0})
    widths = [bar.width for bar in chart.bars]
    assert widths[0] > 0
    assert widths[1] == widths[0] / 2
    assert widths[2] == 0
    assert [bar.y for bar in chart.bars] == sorted({bar.y for bar in chart.bars})
    assert chart.label_width + widths[0] < chart.width
    assert bar_chart("empty", {}).bars == ()


def test_summary_table_shows_the_figures() -> None:
    console = Console(record=True, width=120, color_system=None)
    console.print(summary_table(_summary(audit_ok=False, policy="[bold]p[/bold] v2")))
    text = console.export_text()
    for figure in ("50,005", "49,123", "98,765", "demo-spam-domains", "suspend_account", "BROKEN"):
        assert figure in text, figure
    assert "[bold]p[/bold] v2" in text  # shown as given, not read as markup
    assert "325" in text  # total signals, notice signals included


def test_hide_password() -> None:
    shown = hide_password("postgresql://vigil:s3cret@db.example:5432/vigil")
    assert "s3cret" not in shown
    assert "***" in shown
    assert "db.example" in shown
    assert hide_password("sqlite:///x.db") == "sqlite:///x.db"


def test_collect_summary_on_an_empty_database(engine: Engine) -> None:
    with Session(engine) as session:
        summary = collect_summary(
            session,
            **INGEST,
            elapsed_s=1.5,
            db_url="postgresql://u:hunter2@h/db",
            policy_label="default v1",
        )
    assert summary.items_scanned == 0
    assert summary.cases_opened == 0
    assert summary.statements == summary.content_dropped == summary.events == 0
    assert summary.signals_by_bank == summary.signals_by_kind == {}
    assert (
        summary.verdicts_by_category == summary.cases_by_category == summary.actions_by_kind == {}
    )
    assert summary.audit_ok is True
    assert (summary.items_read, summary.rejected, summary.elapsed_s) == (12, 1, 1.5)
    assert "hunter2" not in summary.db_url
    assert summary.policy == "default v1"


def _populate(engine: Engine) -> None:
    with unit_of_work(engine, clock=lambda: T0) as uow:
        s = uow.session
        account = Account(platform_account_id="u1", handle="user_00001")
        s.add(account)
        s.flush()
        items = [
            Item(platform_item_id=f"i{n}", kind="post", account_id=account.id, created_at=T0,
                 ingested_at=T0, scan_state="scanned" if n < 3 else "pending",
                 content_retained=n != 0)
            for n in range(4)
        ]  # fmt: skip
        spam = Bank(name="spam", kind="domain", category="spam", source="t", created_at=T0)
        terms = Bank(name="terms", kind="term", category="hate", source="t", created_at=T0)
        version = PolicyVersion(name="p", version="1", sha256="0" * 64, source="", activated_at=T0)
        s.add_all([*items, spam, terms, version])
        s.flush()
        entry = BankEntry(bank_id=spam.id, value="cheap-pills.example", added_at=T0)
        s.add(entry)
        s.flush()

        def signal(kind: str, bank: Bank | None) -> Signal:
            return Signal(item_id=items[1].id, kind=kind, bank_id=bank.id if bank else None,
                          matched="x", reason="r", created_at=T0)  # fmt: skip

        s.add_all([signal("domain", spam), signal("domain", spam), signal("term", terms)])
        s.add(signal("notice", None))
        verdicts = [
            Verdict(item_id=items[n].id, policy_version_id=version.id, rule_id="r", category=c,
                    severity="high", action="remove_content", review_required=True,
                    signal_ids=[], created_at=T0)
            for n, c in ((1, "spam"), (2, "spam"), (3, "hate"))
        ]  # fmt: skip
        s.add_all(verdicts)
        s.flush()
        s.add(Case(item_id=items[3].id, verdict_id=verdicts[2].id, category="hate",
                   severity="high", proposed_action="remove_content", opened_at=T0))  # fmt: skip
        actions = [
            Action(kind=k, item_id=items[1].id, account_id=account.id, category="spam",
                   automated=True, applied_at=T0)
            for k in ("remove_content", "remove_content", "suspend_account")
        ]  # fmt: skip
        s.add_all(actions)
        s.flush()
        s.add(StatementOfReasons(puid="p1", action_id=actions[0].id, account_id=account.id,
                                 body={}, issued_at=T0))  # fmt: skip
        for n in range(5):
            uow.log.record("test.event", f"thing:{n}", {"n": n})


def test_collect_summary_counts_what_the_database_holds(engine: Engine) -> None:
    _populate(engine)
    with Session(engine) as session:
        summary = collect_summary(
            session, **INGEST, elapsed_s=0.1, db_url="sqlite://", policy_label="p 1"
        )
    assert summary.items_scanned == 3
    assert summary.content_dropped == 1
    assert summary.signals_by_bank == {"spam": 2, "terms": 1}
    assert list(summary.signals_by_bank) == ["spam", "terms"]  # largest first
    assert summary.signals_by_kind == {"domain": 2, "notice": 1, "term": 1}
    assert summary.signals == 4
    assert summary.verdicts_by_category == {"spam": 2, "hate": 1}
    assert (summary.cases_opened, summary.cases_by_category) == (1, {"hate": 1})
    assert summary.actions_by_kind == {"remove_content": 2, "suspend_account": 1}
    assert summary.statements == 1
    assert summary.events == 5
    assert summary.audit_ok is True


def test_collect_summary_reports_a_tampered_log(engine: Engine) -> None:
    _populate(engine)
    with engine.begin() as conn:
        conn.execute(update(Event).where(Event.seq == 2).values(body="{}"))
    with Session(engine) as session:
        summary = collect_summary(
            session, **INGEST, elapsed_s=0.1, db_url="sqlite://", policy_label="p 1"
        )
    assert summary.audit_ok is False
