"""The shipped code of practice is valid, complete, and behaves as its comments say."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigil.policy.cli import app
from vigil.policy.defaults import default_policy_path, default_policy_text
from vigil.policy.engine import SignalFacts, evaluate
from vigil.policy.schema import Policy, Review, SignalKind
from vigil.policy.validate import REQUIRED_CATEGORIES, check_policy, load_policy, load_policy_text
from vigil.statements import dsa

runner = CliRunner()


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy_text(default_policy_text(), "default.yaml")


def test_default_policy_has_no_issues() -> None:
    assert check_policy(default_policy_text(), "default.yaml") == []


def test_default_policy_file_is_the_packaged_text() -> None:
    path = default_policy_path()
    assert path.name == "default.yaml"
    assert path.read_bytes().decode("utf-8") == default_policy_text()
    assert load_policy(path).policy == "vigil-default"


def test_identity_and_version(policy: Policy) -> None:
    assert policy.policy == "vigil-default"
    assert policy.version == "2026.12.1"
    assert policy.retention.unmatched_content == "drop"
    assert policy.retention.unmatched_content_days == 0
    assert policy.enforcement.suspension_days == 30


def test_every_required_category_is_defined_and_used(policy: Policy) -> None:
    assert set(REQUIRED_CATEGORIES) <= set(policy.categories)
    used = {rule.category for rule in policy.rules}
    assert set(REQUIRED_CATEGORIES) <= used


def test_keywords_belong_to_their_statement_category(policy: Policy) -> None:
    for category in policy.categories.values():
        statement = category.statement
        assert statement.keywords, category.title
        for keyword in statement.keywords:
            assert keyword in dsa.CATEGORY_KEYWORDS[statement.category], keyword


def test_terrorism_statement(policy: Policy) -> None:
    statement = policy.category("terrorism").statement
    assert statement.category == "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
    assert statement.ground == "illegal"
    assert statement.legal_ground is not None
    assert "2021/784" in statement.legal_ground


def hit(kind: SignalKind, bank_category: str, ref: int = 1) -> SignalFacts:
    return SignalFacts(ref=ref, kind=kind, bank="bank", bank_category=bank_category)


def test_terrorism_hash_acts_alone(policy: Policy) -> None:
    verdict = evaluate(policy, [hit(SignalKind.MD5, "terrorism")])
    assert verdict is not None
    assert (verdict.rule_id, verdict.review_required) == ("terrorism-hash", False)


def test_csam_hash_needs_a_person_within_the_hour(policy: Policy) -> None:
    verdict = evaluate(policy, [hit(SignalKind.SHA256, "child_sexual_exploitation")])
    assert verdict is not None
    assert verdict.category == "child_sexual_exploitation"
    assert verdict.review_required is True
    assert verdict.deadline == timedelta(hours=1)


def test_every_rule_that_needs_review_has_a_deadline(policy: Policy) -> None:
    for rule in policy.rules:
        assert (rule.review is Review.REQUIRED) == (rule.deadline is not None), rule.id


def test_notices(policy: Policy) -> None:
    def notices(category: str, count: int) -> list[SignalFacts]:
        return [
            SignalFacts(ref=i, kind=SignalKind.NOTICE, notice_category=category)
            for i in range(count)
        ]

    urgent = evaluate(policy, notices("threat_to_life", 1))
    assert urgent is not None
    assert (urgent.category, urgent.deadline) == ("threat_to_life", timedelta(hours=1))
    assert evaluate(policy, notices("hate", 1)) is None
    later = evaluate(policy, notices("hate", 2))
    assert later is not None
    assert (later.category, later.deadline) == ("hate", timedelta(hours=24))


def test_cli_check_accepts_the_default_policy() -> None:
    result = runner.invoke(app, ["check", str(default_policy_path())])
    assert result.exit_code == 0, result.output
    assert "ok: vigil-default 2026.12.1, 6 categories, 16 rules" in result.stdout


def test_cli_check_reports_errors_with_line_numbers(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        default_policy_text()
        .replace("severity: medium", "sevrity: medium", 1)
        .replace('version: "2026.12.1"', "version: 2026.11"),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["check", str(broken)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{broken}:")
    assert ": error: version must be text" in lines[0]
    line_no = int(lines[1].split(":")[1])
    assert broken.read_text(encoding="utf-8").splitlines()[line_no - 1].strip() == (
        "sevrity: medium"
    )
    assert "unknown field 'sevrity'; did you mean 'severity'?" in lines[1]


def test_cli_check_reports_an_undecodable_file(tmp_path: Path) -> None:
    broken = tmp_path / "latin1.yaml"
    broken.write_bytes(b'policy: x\nversion: "caf\xe9"\n')
    result = runner.invoke(app, ["check", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}:2:14: error: the file is not valid UTF-8 text" in result.stdout


def test_cli_show_lists_the_default_rules() -> None:
    result = runner.invoke(app, ["show"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for rule_id in ("terrorism-hash", "csam-hash", "notice-spam"):
        assert rule_id in result.stdout


def test_cli_show_refuses_an_invalid_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("policy: x\n", encoding="utf-8")
    result = runner.invoke(app, ["show", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}:1:1: error: missing required field 'version'" in result.stdout


@pytest.mark.parametrize("command", ["check", "show"])
def test_cli_help(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Policy YAML file" in result.stdout


def test_default_policy_refers_csam_threats_and_terrorism() -> None:
    from datetime import timedelta

    from vigil.policy.schema import ReferralPriority, ReferralRoute
    from vigil.policy.services import load_active

    policy, _ = load_active()
    csam = policy.category("child_sexual_exploitation").referral
    threat = policy.category("threat_to_life").referral
    terror = policy.category("terrorism").referral
    assert csam is not None
    assert threat is not None
    assert terror is not None
    assert csam.route is ReferralRoute.NCMEC
    assert csam.hold_delta == timedelta(days=365)
    assert "2258A" in csam.legal_basis
    assert threat.route is ReferralRoute.DSA_ART18
    assert threat.priority is ReferralPriority.P1_IMMEDIATE
    assert threat.deadline_delta == timedelta(hours=1)
    assert terror.route is ReferralRoute.DSA_ART18
    assert terror.hold_delta == timedelta(days=183)
    assert "2021/784" in terror.legal_basis
    assert policy.category("hate").referral is None
