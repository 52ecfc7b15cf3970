"""`vigil demo` end to end on a small run: figures add up, statements pass the DSA schema."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.statements.sor_checker import SchemaChecker
from vigil.actions.models import Action
from vigil.audit.models import Event
from vigil.audit.services import verify
from vigil.cases.models import Case, CaseStatus, Decision
from vigil.cli import app
from vigil.db import make_engine
from vigil.items.models import Item
from vigil.statements.models import StatementOfReasons


def test_demo_runs_the_whole_spine(tmp_path: Path, shared_dir: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--items", "3000"])
    assert result.exit_code == 0, result.output
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in report
    engine = make_engine(f"sqlite:///{out / 'vigil-demo.db'}")
    checker = SchemaChecker(
        json.loads((shared_dir / "reference" / "dsa_sor_schema.json").read_text())
    )
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 3000
        assert (s.scalar(select(func.count()).select_from(Case)) or 0) > 0
        statements = list(s.scalars(select(StatementOfReasons)))
        assert statements, "the demo should restrict some EU users' content"
        for st in statements:
            assert checker.check(st.body) == [], st.body
        assert len({st.puid for st in statements}) == len(statements)
        # Unmatched items keep no content.
        leaked = s.scalar(
            select(func.count())
            .select_from(Item)
            .where(Item.content_retained.is_(False), Item.text.is_not(None))
        )
        assert leaked == 0
        assert verify(s).ok

        # The review shift (issue 5): a non-empty queue, four-eyes, escalation, an appeal.
        def events(type_: str) -> list[dict[str, object]]:
            bodies = s.scalars(select(Event.body).where(Event.type == type_))
            return [json.loads(b)["payload"] for b in bodies]

        waiting = s.scalar(
            select(func.count()).select_from(Case).where(Case.status == CaseStatus.OPEN.value)
        )
        assert (waiting or 0) > 0
        confirmed = s.scalars(select(Decision).where(Decision.confirmed_by.is_not(None))).all()
        assert confirmed
        assert all(d.confirmed_by != d.reviewer for d in confirmed)
        four_eyes_actions = s.scalars(
            select(Action).where(Action.decision_id.in_([d.id for d in confirmed]))
        ).all()
        assert four_eyes_actions
        assert events("account.escalated")
        decided = events("appeal.decided")
        assert {str(p["outcome"]) for p in decided} == {"reversed", "upheld"}
        reversed_appeal = next(
            int(str(p["appeal_id"])) for p in decided if p["outcome"] == "reversed"
        )
        assert any(p["appeal_id"] == reversed_appeal for p in events("action.reversed"))
        assert any(p["appeal_id"] == reversed_appeal for p in events("strike.removed"))
    assert "Appeals by outcome" in report
    engine.dispose()

    # The legal desk (issue 6): an Art. 18 referral, a refused and a fulfilled request.
    desk = json.loads((out / "authorities" / "summary.json").read_text())
    assert desk["referral_route"] == "dsa_art18"
    assert desk["refusal_reasons"] == ["broad_target"]
    manifest = json.loads(
        (out / "authorities" / f"referral-{desk['referral']}" / "manifest.json").read_text()
    )
    steps = [h["step"] for h in manifest["chain_of_custody"]["handling"]]
    assert steps[-2:] == ["referral.proposed", "referral.approved"]
    production = json.loads(
        (out / "authorities" / f"production-{desk['produced_request']}.json").read_text()
    )
    assert len(production["accounts"]) == 1  # only the account the request named
    figures_file = out / "authorities-figures.json"
    result = CliRunner().invoke(
        app,
        [
            "--db",
            f"sqlite:///{out / 'vigil-demo.db'}",
            "authorities",
            "report",
            "--json",
            str(figures_file),
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(figures_file.read_text())
    (requests,) = figures["requests"]
    assert (requests["country"], requests["requests"]) == ("DE", 2)
    assert requests["refusals"] == {"broad_target": 1}
    assert requests["share_some_data_produced"] == 0.5  # the refused one got nothing
    (route,) = figures["referrals"]
    assert (route["route"], route["approved"]) == ("dsa_art18", 1)
