"""CyberTipline XML follows the schema order of the reference; fileViewedByEsp is earned."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.referrals.schema_order import problems, reference
from tests.referrals.support import NOTE, STAND_IN_SHA, csam
from vigil.referrals import ncmec
from vigil.referrals.models import Referral
from vigil.referrals.package import build_package
from vigil.referrals.services import approve, propose
from vigil.unit_of_work import unit_of_work

REPORTER = ncmec.Reporter(
    platform="Vigil test platform",
    email="safety@example.org",
    first_name="Trust",
    last_name="Safety",
    terms_url="https://example.org/terms",
)


def _approved_package(engine: Engine, tmp_path: Path, *, view_by: str | None = "alice"):  # type: ignore[no-untyped-def]
    sc = csam(engine, tmp_path, view_by=view_by)
    with unit_of_work(engine) as uow:
        rid = propose(uow, sc.decision_id, "alice", sc.ctx.policy).id
    with unit_of_work(engine) as uow:
        approve(uow, rid, "lena", sc.ctx.policy)
    with Session(engine) as s:
        r = s.get(Referral, rid)
        assert r is not None
        return build_package(s, r)


def test_report_and_file_details_follow_schema_order(
    engine: Engine, tmp_path: Path, shared_dir: Path
) -> None:
    ref = reference(shared_dir)
    package = _approved_package(engine, tmp_path)
    report = ET.fromstring(ncmec.report_xml(package, REPORTER))  # noqa: S314
    assert problems(report, ref["report"]) == []
    assert [c.tag for c in report] == [
        "incidentSummary",
        "reporter",
        "personOrUserReported",
        "additionalInfo",
    ]
    summary = report.find("incidentSummary")
    assert summary is not None
    assert summary.findtext("incidentType") in ref["simple_types"]["incidentType"]["enum"]
    # P1: escalated; the time carries its zone and is not after the approval.
    assert summary.findtext("escalateToHighPriority")
    when = datetime.fromisoformat(str(summary.findtext("incidentDateTime")))
    assert when.tzinfo is not None
    assert when <= datetime.now(UTC)
    assert report.findtext("personOrUserReported/espIdentifier") == "acct-c1"
    assert NOTE not in ET.tostring(report, encoding="unicode")
    held = next(f for f in package.files if f.data is not None)
    details = ET.fromstring(ncmec.file_details_xml("1000", "f1", held))  # noqa: S314
    assert problems(details, ref["fileDetails"]) == []
    assert details.findtext("fileViewedByEsp") == "true"
    hashes = {h.get("hashType"): h.text for h in details.findall("originalFileHash")}
    assert hashes["SHA256"] == STAND_IN_SHA


def test_the_order_check_catches_a_swap(shared_dir: Path) -> None:
    """The checker the test above relies on does fail on out-of-order elements."""
    ref = reference(shared_dir)
    bad = ET.fromstring(  # noqa: S314
        "<fileDetails><fileId>f1</fileId><reportId>1</reportId>"
        "<fileViewedByEsp>true</fileViewedByEsp></fileDetails>"
    )
    assert any("out of schema order" in p for p in problems(bad, ref["fileDetails"]))
    missing = ET.fromstring("<report><reporter/></report>")  # noqa: S314
    assert any("incidentSummary: required" in p for p in problems(missing, ref["report"]))


def test_file_not_opened_by_a_person_is_not_marked_viewed(engine: Engine, tmp_path: Path) -> None:
    package = _approved_package(engine, tmp_path, view_by=None)
    held = next(f for f in package.files if f.data is not None)
    assert held.viewed_by_person is False
    details = ET.fromstring(ncmec.file_details_xml("1000", "f1", held))  # noqa: S314
    assert details.findtext("fileViewedByEsp") == "false"
    steps = [h["step"] for h in package.manifest["chain_of_custody"]["handling"]]
    assert "evidence.viewed" not in steps
