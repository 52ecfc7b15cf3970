"""Exports are batches of at most 100 in the batch endpoint's format; every body passes the schema."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from tests.statements.seed import HANDLE, NOW, seed_statements, set_body, stored
from tests.statements.sor_checker import SchemaChecker
from vigil.statements.export import batches, export_statements
from vigil.statements.models import StatementOfReasons


def _files(report_files: list[Path]) -> list[dict[str, Any]]:
    return [json.loads(p.read_text("utf-8")) for p in report_files]


def _export(engine: Engine, out: Path, **options: Any) -> Any:
    with Session(engine) as s:
        return export_statements(s, out, **options)


def test_250_statements_make_three_files_that_pass_the_reference_schema(
    engine: Engine, tmp_path: Path, sor_checker: SchemaChecker
) -> None:
    puids = seed_statements(engine, 250)
    report = _export(engine, tmp_path / "out")
    assert [p.name for p in report.files] == [
        "statements-0001.json",
        "statements-0002.json",
        "statements-0003.json",
    ]
    payloads = _files(report.files)
    assert [len(p["statements"]) for p in payloads] == [100, 100, 50]
    assert all(set(p) == {"statements"} for p in payloads)
    exported = [s for p in payloads for s in p["statements"]]
    assert [s["puid"] for s in exported] == puids  # issue order, deterministic
    for body in exported:
        assert sor_checker.check(body) == [], body["puid"]
    assert report.exported == 250
    assert report.problems == []
    assert report.scrubbed == {}


def test_a_failing_statement_is_named_by_puid_and_field_and_the_rest_go(
    engine: Engine, tmp_path: Path, sor_checker: SchemaChecker
) -> None:
    puids = seed_statements(engine, 101)
    bad = puids[40]
    set_body(engine, bad, content_date="2025-13-45")
    report = _export(engine, tmp_path)
    assert [(p.puid, p.field) for p in report.problems] == [(bad, "content_date")]
    assert report.failed == [bad]
    payloads = _files(report.files)
    assert [len(p["statements"]) for p in payloads] == [100]
    sent = [s["puid"] for s in payloads[0]["statements"]]
    assert sent == [p for p in puids if p != bad]
    assert all(sor_checker.check(s) == [] for s in payloads[0]["statements"])


def test_personal_data_left_in_a_stored_body_is_scrubbed_at_export(
    engine: Engine, tmp_path: Path, sor_checker: SchemaChecker
) -> None:
    [puid] = seed_statements(engine, 1)
    facts = stored(engine, puid).body["decision_facts"]
    set_body(engine, puid, decision_facts=f"{facts} Reported by x.y@mailhost.de about {HANDLE}.")
    report = _export(engine, tmp_path)
    [body] = _files(report.files)[0]["statements"]
    assert "mailhost" not in json.dumps(body)
    assert HANDLE not in json.dumps(body)
    assert body["decision_facts"] == f"{facts} Reported by [email] about [identifier]."
    assert report.scrubbed == {puid: ("decision_facts",)}
    assert sor_checker.check(body) == []
    assert "mailhost" in stored(engine, puid).body["decision_facts"]  # the record is not rewritten


def test_since_and_unsubmitted_select_what_is_exported(engine: Engine, tmp_path: Path) -> None:
    early = seed_statements(engine, 3, when=NOW - timedelta(days=10))
    late = seed_statements(engine, 2, when=NOW)
    with Session(engine) as s, s.begin():
        s.execute(
            update(StatementOfReasons)
            .where(StatementOfReasons.puid == late[0])
            .values(submission_status="submitted", tdb_uuid="u-1")
        )

    def exported(out: str, **options: Any) -> list[str]:
        report = _export(engine, tmp_path / out, **options)
        return [s["puid"] for p in _files(report.files) for s in p["statements"]]

    assert exported("default") == [*early, late[1]]
    assert exported("all", unsubmitted=False) == [*early, *late]
    assert exported("since", since=date(2025, 7, 1)) == [late[1]]
    assert exported("since-all", since=NOW.date(), unsubmitted=False) == late
    assert exported("none", since=date(2030, 1, 1)) == []


def test_an_export_never_mixes_with_an_earlier_one(engine: Engine, tmp_path: Path) -> None:
    seed_statements(engine, 1)
    _export(engine, tmp_path)
    with pytest.raises(FileExistsError, match=r"out: .* already holds an export"):
        _export(engine, tmp_path)


def test_progress_is_reported_for_every_statement(engine: Engine, tmp_path: Path) -> None:
    seed_statements(engine, 7)
    seen: list[int] = []
    _export(engine, tmp_path, progress=seen.append)
    assert sum(seen) == 7


def test_batches_hold_at_most_100() -> None:
    assert [len(b) for b in batches(range(250))] == [100, 100, 50]
    assert [len(b) for b in batches(range(7), 3)] == [3, 3, 1]
    assert list(batches([])) == []
    with pytest.raises(ValueError, match="size"):
        list(batches(range(5), 101))
