"""Retroactive matching: banks that gain entries match the items stored before them.

Every scenario ingests under the shipped policy, whose retention drops the
content of items that matched nothing, and then adds entries to a bank.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.support.banks import events, make_bank
from tests.support.rescans import (
    actions_by_item,
    cases_by_item,
    dropped,
    ingest,
    jobs,
    run_all,
    signals_by_item,
    verdict_rules,
)
from tests.support.spine import add_bank, item
from vigil.audit.models import Event
from vigil.audit.services import verify
from vigil.banks.models import Bank, BankEntry
from vigil.banks.services import set_entry_enabled
from vigil.hashing.pdq import hash_image
from vigil.items.models import Item
from vigil.policy.defaults import default_policy_text
from vigil.rescans.services import activate_policy, run_rescan
from vigil.signals.models import Signal
from vigil.signals.rollout import in_rollout
from vigil.statements.models import StatementOfReasons
from vigil.unit_of_work import unit_of_work

A, B, C = "a1" * 32, "b2" * 32, "c3" * 32


def media(sha256: str) -> dict[str, Any]:
    return {"sha256": sha256}


def test_new_hash_entries_match_dropped_items_and_act_per_policy(
    engine: Engine, tmp_path: Path
) -> None:
    ingest(
        engine,
        tmp_path,
        [
            item("hit-1", "a synthetic post", media=[media(A)]),
            item("hit-2", "another synthetic post", media=[media(B), media(A)]),
            item("miss", "nothing to see", media=[media(C)]),
            item("plain", "no media at all"),
        ],
    )
    assert dropped(engine) == {"hit-1", "hit-2", "miss", "plain"}
    make_bank(engine, "gifct", "sha256", "terrorism", [A, "d4" * 32])
    (job,) = jobs(engine)
    assert (job.status, job.trigger, job.cursor_item_id) == ("pending", "import", 0)
    assert signals_by_item(engine) == {}  # queued, not run

    (done,) = run_all(engine)

    assert signals_by_item(engine) == {
        "hit-1": [("gifct", "sha256")],
        "hit-2": [("gifct", "sha256")],
    }
    # terrorism-hash: critical, removed without review, with a statement of reasons.
    assert verdict_rules(engine) == {"hit-1": ["terrorism-hash"], "hit-2": ["terrorism-hash"]}
    assert actions_by_item(engine) == {"hit-1": ["remove_content"], "hit-2": ["remove_content"]}
    assert cases_by_item(engine) == {}
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(StatementOfReasons)) == 2
        removed = s.scalars(select(Item.platform_item_id).where(Item.status == "removed")).all()
        assert sorted(removed) == ["hit-1", "hit-2"]
        assert verify(s).ok
    assert (done.status, done.items_scanned, done.signals, done.verdicts, done.actions) == (
        "finished",
        2,  # found by the database: the two items holding A, not all four
        2,
        2,
        2,
    )
    assert done.cursor_item_id == done.upto_item_id
    kinds = [t for t, _, _ in events(engine, "rescan.")]
    assert kinds == ["rescan.queued", "rescan.started", "rescan.progressed", "rescan.finished"]
    (_, _, finished) = events(engine, "rescan.finished")[0]
    assert finished == {
        "items_scanned": 2,
        "signals": 2,
        "suppressed": 0,
        "verdicts": 2,
        "cases_opened": 0,
        "actions": 2,
    }


def test_terms_match_only_items_that_kept_their_content_and_events_hold_none(
    engine: Engine, tmp_path: Path
) -> None:
    secret = "a very identifiable synthetic sentence"
    keep = tmp_path / "keep.yaml"
    keep.write_text(
        default_policy_text().replace("unmatched_content: drop", "unmatched_content: keep")
    )
    ingest(engine, tmp_path, [item("dropped", secret)])
    ingest(
        engine,
        tmp_path,
        [item("kept", secret, urls=["https://example.org/page"])],
        name="kept.jsonl",
        policy=keep,
    )
    assert dropped(engine) == {"dropped"}
    make_bank(engine, "threats", "term", "threat_to_life", ["identifiable synthetic"])
    (job,) = run_all(engine, keep)
    assert job.items_scanned == 1  # only items with text are worth a look
    assert signals_by_item(engine) == {"kept": [("threats", "term")]}
    assert cases_by_item(engine) == {"kept": ["threat_to_life"]}
    with Session(engine) as s:
        bodies = s.scalars(select(Event.body)).all()
    assert not any(secret in body or "example.org" in body for body in bodies)


def test_a_text_bank_matches_dropped_text_by_its_digest_and_opens_a_case(
    engine: Engine, tmp_path: Path
) -> None:
    ingest(
        engine,
        tmp_path,
        [
            item("threat", "I know where you live.  See you TONIGHT"),
            item("other", "I know where the shop is"),
        ],
    )
    with Session(engine) as s:
        assert s.scalars(select(Item.text).where(Item.text.is_not(None))).all() == []
    make_bank(
        engine,
        "known-threats",
        "text",
        "threat_to_life",
        ["i know where you live. see you tonight"],
    )
    (job,) = run_all(engine)
    assert signals_by_item(engine) == {"threat": [("known-threats", "text")]}
    assert verdict_rules(engine) == {"threat": ["threat-to-life-term"]}
    assert cases_by_item(engine) == {"threat": ["threat_to_life"]}  # review required, 1h
    assert actions_by_item(engine) == {}
    assert (job.items_scanned, job.cases_opened) == (1, 1)


@pytest.fixture(scope="module")
def dih(shared_dir: Path) -> Path:
    return shared_dir / "data" / "pdq" / "data" / "reg-test-input" / "dih"


def _image(path: Path) -> dict[str, Any]:
    return {"data_b64": base64.b64encode(path.read_bytes()).decode(), "mime": "image/jpeg"}


def test_rotated_images_match_a_pdq_bank_with_transforms_after_the_fact(
    engine: Engine, tmp_path: Path, dih: Path, shared_dir: Path
) -> None:
    rotated = ["bridge-2-rotate-90.jpg", "bridge-6-flipy.jpg"]
    other = shared_dir / "data" / "pdq" / "data" / "misc-images" / "c.png"
    ingest(
        engine,
        tmp_path,
        [item(name, "look", media=[_image(dih / name)]) for name in rotated]
        + [
            item("unrelated", "look", media=[_image(other)]),
            # Only the hash: the other orientations are estimated from it.
            item(
                "hash-only",
                "look",
                media=[{"pdq": hash_image(dih.joinpath(rotated[0]).read_bytes()).hex}],
            ),
        ],
    )
    assert dropped(engine) == {*rotated, "unrelated", "hash-only"}  # images gone, hashes kept
    rotated.append("hash-only")
    banked = hash_image((dih / "bridge-1-original.jpg").read_bytes()).hex
    make_bank(engine, "plain-pdq", "pdq", "terrorism", [banked])
    make_bank(engine, "turned-pdq", "pdq", "terrorism", [banked], match_transforms=True)
    plain, turned = run_all(engine)
    found = signals_by_item(engine)
    assert found == {name: [("turned-pdq", "pdq")] for name in rotated}
    assert (plain.items_scanned, plain.signals) == (4, 0)  # every hashed image, none matched
    assert (turned.items_scanned, turned.signals, turned.cases_opened) == (4, 3, 3)
    with Session(engine) as s:
        reasons = dict(
            s.execute(
                select(Item.platform_item_id, Signal.reason).join(Item, Item.id == Signal.item_id)
            ).all()
        )
    assert "(rotate270)" in reasons["bridge-2-rotate-90.jpg"]
    assert verdict_rules(engine) == {name: ["terrorism-pdq"] for name in rotated}
    assert cases_by_item(engine) == {name: ["terrorism"] for name in rotated}


def test_known_benign_entries_still_withhold_retroactive_matches(
    engine: Engine, tmp_path: Path
) -> None:
    make_bank(engine, "benign", "sha256", "terrorism", [A], negative=True)
    ingest(
        engine, tmp_path, [item("stock", "x", media=[media(A)]), item("bad", "y", media=[media(B)])]
    )
    assert jobs(engine) == []  # negative banks queue nothing: they raise no signals
    make_bank(engine, "terror", "sha256", "terrorism", [A, B])
    (job,) = run_all(engine)
    assert signals_by_item(engine) == {"bad": [("terror", "sha256")]}
    assert (job.signals, job.suppressed) == (1, 1)
    ((_, subject, payload),) = events(engine, "signal.suppressed")
    with Session(engine) as s:
        stock = s.scalar(select(Item.id).where(Item.platform_item_id == "stock"))
        benign_entry = s.scalar(
            select(BankEntry.id).where(BankEntry.value == A).order_by(BankEntry.id)
        )
    assert subject == f"item:{stock}"
    assert payload["by_bank_entry_id"] == benign_entry


def test_bank_settings_apply_to_the_rescan(engine: Engine, tmp_path: Path) -> None:
    ingest(engine, tmp_path, [item(f"p{i}", "x", media=[media(A)]) for i in range(40)])
    make_bank(engine, "half", "sha256", "terrorism", [A], rollout=0.5)
    (job,) = run_all(engine)
    with Session(engine) as s:
        bank_id = s.scalar(select(Bank.id).where(Bank.name == "half"))
        ids = {pid: i for pid, i in s.execute(select(Item.platform_item_id, Item.id))}
    assert bank_id is not None
    expected = {pid for pid, i in ids.items() if in_rollout(0.5, bank_id, i)}
    assert job.items_scanned == 40
    assert set(signals_by_item(engine)) == expected  # the half live scanning would pick
    assert 0 < len(expected) < 40
    # A disabled entry is not looked for; re-enabling it queues a job for it alone.
    make_bank(engine, "later", "md5", "terrorism", ["0" * 32])
    with unit_of_work(engine) as uow:
        entry_id = uow.session.scalar(select(BankEntry.id).where(BankEntry.value == "0" * 32))
        assert entry_id is not None
        set_entry_enabled(uow, "later", entry_id, False, reason="test")
    (disabled,) = run_all(engine)
    assert (disabled.status, disabled.items_scanned) == ("finished", 0)
    with unit_of_work(engine) as uow:
        set_entry_enabled(uow, "later", entry_id, True)
    (again,) = [j for j in jobs(engine, "later") if j.status == "pending"]
    assert (again.trigger, again.first_entry_id, again.last_entry_id) == (
        "entry_enabled",
        entry_id,
        entry_id,
    )


def test_a_disabled_bank_leaves_its_job_waiting(engine: Engine, tmp_path: Path) -> None:
    from vigil.banks.services import set_bank_enabled

    ingest(engine, tmp_path, [item("p", "x", media=[media(A)])])
    make_bank(engine, "off", "sha256", "terrorism", [A])
    with unit_of_work(engine) as uow:
        set_bank_enabled(uow, "off", False)
    (waiting,) = run_all(engine)
    assert (waiting.status, waiting.waiting) == ("pending", "bank disabled")
    assert signals_by_item(engine) == {}
    with unit_of_work(engine) as uow:
        set_bank_enabled(uow, "off", True)
    (done,) = run_all(engine)
    assert (done.status, done.signals) == ("finished", 1)


def test_only_new_entries_are_matched_and_running_again_adds_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    make_bank(engine, "terror", "sha256", "terrorism", [A])
    ingest(
        engine,
        tmp_path,
        [item("old-hit", "x", media=[media(A)]), item("new-hit", "y", media=[media(B)])],
    )
    assert signals_by_item(engine) == {"old-hit": [("terror", "sha256")]}  # matched live
    add_bank(engine, tmp_path, "terror", "sha256", "terrorism", [A, B])  # A is already there
    (job,) = run_all(engine)
    assert job.items_scanned == 1
    assert signals_by_item(engine) == {
        "old-hit": [("terror", "sha256")],
        "new-hit": [("terror", "sha256")],
    }

    def counts() -> tuple[int, ...]:
        with Session(engine) as s:
            return tuple(
                int(s.scalar(select(func.count()).select_from(t)) or 0)
                for t in (Signal, Event, StatementOfReasons)
            )

    before = counts()
    policy = activate_policy(engine)
    assert run_rescan(engine, job.id, policy).status == "finished"
    assert run_all(engine) == []
    assert counts() == before
    # A second job over entries that already matched (withdrawn, then restored) adds no signal.
    with unit_of_work(engine) as uow:
        entry_b = uow.session.scalar(select(BankEntry.id).where(BankEntry.value == B))
        assert entry_b is not None
        set_entry_enabled(uow, "terror", entry_b, False, reason="checking")
        set_entry_enabled(uow, "terror", entry_b, True)
    (again,) = run_all(engine)
    assert (again.items_scanned, again.signals, again.verdicts) == (1, 0, 0)
    assert counts()[0] == before[0]


def test_items_stored_after_the_job_are_left_to_live_scanning(
    engine: Engine, tmp_path: Path
) -> None:
    ingest(engine, tmp_path, [item("before", "x", media=[media(A)])])
    make_bank(engine, "terror", "sha256", "terrorism", [A])
    ingest(engine, tmp_path, [item("after", "y", media=[media(A)])], name="later.jsonl")
    assert signals_by_item(engine) == {"after": [("terror", "sha256")]}  # live, new index
    (job,) = run_all(engine)
    with Session(engine) as s:
        first = s.scalar(select(Item.id).where(Item.platform_item_id == "before"))
    assert job.upto_item_id == first
    assert job.items_scanned == 1
    assert signals_by_item(engine) == {
        "after": [("terror", "sha256")],
        "before": [("terror", "sha256")],
    }


def test_the_policy_decides_on_old_and_new_signals_together(engine: Engine, tmp_path: Path) -> None:
    # A rule that needs two exact matches: one at ingest, one from the rescan.
    policy = tmp_path / "two-hashes.yaml"
    rule = (
        "rules:\n"
        "  - id: spam-two-hashes\n"
        "    category: spam\n"
        "    when:\n"
        "      signals: [sha256, md5]\n"
        "      bank_categories: [spam]\n"
        "      min_count: 2\n"
        "    severity: low\n"
        "    action: restrict_visibility\n"
        "    review: none\n"
    )
    policy.write_text(default_policy_text().replace("rules:\n", rule, 1))
    make_bank(engine, "spam-md5", "md5", "spam", ["e5" * 16])
    ingest(
        engine,
        tmp_path,
        [
            item("both", "x", media=[{"md5": "e5" * 16, "sha256": A}]),
            item("one", "y", media=[{"sha256": A}]),
        ],
        policy=policy,
    )
    assert verdict_rules(engine) == {}  # one signal is not enough
    make_bank(engine, "spam-sha", "sha256", "spam", [A])
    run_all(engine, policy)
    assert verdict_rules(engine) == {"both": ["spam-two-hashes"]}
    assert actions_by_item(engine) == {"both": ["restrict_visibility"]}
    with Session(engine) as s:
        (signal_ids,) = s.scalars(select(Event.body).where(Event.type == "verdict.reached")).all()
    assert len(json.loads(signal_ids)["payload"]["signal_ids"]) == 2


def test_content_banks_look_for_the_new_entries_only(engine: Engine, tmp_path: Path) -> None:
    make_bank(engine, "hate-terms", "term", "hate", ["synthetic slur"])
    ingest(
        engine,
        tmp_path,
        [
            item("kept", "a synthetic slur and a synthetic insult"),
            item("dropped", "only a synthetic insult"),
        ],
    )
    assert dropped(engine) == {"dropped"}
    add_bank(engine, tmp_path, "hate-terms", "term", "hate", ["synthetic insult"])
    (job,) = run_all(engine)
    assert job.items_scanned == 1
    with Session(engine) as s:
        matched = s.scalars(select(Signal.matched).order_by(Signal.id)).all()
    assert matched == ["synthetic slur", "synthetic insult"]  # the old term is not raised again
    # Old and new signals together: one more verdict on the same rule, attached to the open case.
    assert verdict_rules(engine) == {"kept": ["hate-term", "hate-term"]}
    assert cases_by_item(engine) == {"kept": ["hate"]}
    assert [t for t, _, _ in events(engine, "case.")] == ["case.opened", "case.verdict_attached"]


def test_links_and_patterns_match_retained_items_with_allow_lists_applied(
    engine: Engine, tmp_path: Path
) -> None:
    # A term bank keeps these items' content at ingest; a URL allow-list exists from the start.
    make_bank(engine, "watch", "term", "harassment", ["synthetic taunt"])
    make_bank(engine, "ok-urls", "url", "spam", ["https://docs.evil.example/help"], negative=True)
    ingest(
        engine,
        tmp_path,
        [
            item("link", "a synthetic taunt", urls=["https://evil.example/win"]),
            item("allowed", "a synthetic taunt, see https://docs.evil.example/help"),
            item("code", "a synthetic taunt: claim code ZX-1234-QQ"),
            item("gone", "no taunt here", urls=["https://evil.example/win"]),
        ],
    )
    assert dropped(engine) == {"gone"}
    make_bank(engine, "spam-domains", "domain", "spam", ["evil.example"])
    make_bank(engine, "spam-codes", "regex", "spam", [r"\bzx-\d{4}-[a-z]{2}\b"])
    domains, codes = run_all(engine)
    found = signals_by_item(engine)
    assert found["link"] == [("watch", "term"), ("spam-domains", "domain")]
    assert found["allowed"] == [("watch", "term")]  # the allow-listed URL withholds its domain
    assert found["code"] == [("watch", "term"), ("spam-codes", "regex")]
    assert "gone" not in found
    assert (domains.items_scanned, domains.signals, domains.suppressed) == (3, 1, 1)
    assert (codes.items_scanned, codes.signals) == (3, 1)
