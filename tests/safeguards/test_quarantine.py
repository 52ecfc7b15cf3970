"""The match-rate safeguard end to end through the real pipeline, on SQLite and PostgreSQL.

A terrorism hash bank under the default rules acts alone (``terrorism-hash``,
review: none). Batches run at chosen times, so history, windows and bursts are
exact; the numbers in each test follow from the tuned policy it uses.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.support.banks import events, make_bank
from tests.support.safeguards import (
    T0,
    batch,
    media_item,
    outcomes,
    plain,
    sha,
    tuned_context,
)
from vigil.audit.services import verify
from vigil.banks.formats import RawEntry
from vigil.banks.models import BankEntry
from vigil.banks.services import create_bank, import_entries
from vigil.cases.models import Case
from vigil.items.models import Item
from vigil.policy.models import Verdict
from vigil.safeguards.models import EntryMatchCount, Quarantine, ScanCount
from vigil.safeguards.services import release_entry
from vigil.signals.models import Signal
from vigil.signals.services import signals_of_items
from vigil.unit_of_work import unit_of_work

BAD, GOOD = sha("stock photo"), sha("known bad")
# Window 1h, baseline 1d; a fresh entry trips above 10 x 1% once it has 5 matches.
TUNING = {
    "window": "1h",
    "baseline": "1d",
    "factor": 10,
    "min_matches": 5,
    "prior_rate": 0.01,
    "prior_items": 100,
    "deadline": "4h",
}


def entry_ids(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        return {v: i for i, v in s.execute(select(BankEntry.id, BankEntry.value))}


def quarantined(engine: Engine) -> set[str]:
    with Session(engine) as s:
        return set(s.scalars(select(BankEntry.value).where(BankEntry.quarantined_at.is_not(None))))


def test_a_burst_quarantines_the_entry_and_holds_its_matches_for_review(
    engine: Engine, tmp_path: Path
) -> None:
    make_bank(engine, "terror", "sha256", "terrorism", [BAD, GOOD])
    ids = entry_ids(engine)
    ctx = tuned_context(engine, tmp_path, **TUNING)

    # Before the burst: one match each, and the rule acts alone.
    batch(
        engine, ctx, T0, [media_item("pre-bad", BAD), media_item("pre-good", GOOD), *plain("a", 18)]
    )
    assert outcomes(engine, ["pre-bad", "pre-good"]) == {
        "pre-bad": (False, True),
        "pre-good": (False, True),
    }
    assert quarantined(engine) == set()

    # Two hours later: BAD matches 10 of 40 items (25%). Its baseline is the hour
    # before, blended with the prior: (1 + 0.01 x 100) / (20 + 100) = 1/60; 25% > 10/60.
    burst = [media_item(f"burst-{i}", BAD) for i in range(10)]
    out = batch(
        engine,
        ctx,
        T0 + timedelta(hours=2),
        [*burst, media_item("mid-good", GOOD), *plain("b", 29)],
    )
    assert quarantined(engine) == {BAD}
    ((_, subject, payload),) = events(engine, "bank.entry_quarantined")
    assert subject.startswith("bank:")
    assert payload == {
        "bank_entry_id": ids[BAD],
        "quarantine_id": payload["quarantine_id"],
        "window_s": 3600,
        "window_matches": 10,
        "window_items": 40,
        "window_rate": 0.25,
        "baseline_s": 86400,
        "baseline_matches": 1,
        "baseline_items": 20,
        "baseline_rate": pytest.approx(1 / 60),
        "factor": 10.0,
        "min_matches": 5,
    }
    # The whole batch that tripped it is held: cases, and no automatic action.
    held = outcomes(engine, [f"burst-{i}" for i in range(10)])
    assert set(held.values()) == {(True, False)}
    assert out.cases_opened == 10
    assert out.actions == 1
    # Another entry of the same bank keeps acting.
    assert outcomes(engine, ["mid-good"]) == {"mid-good": (False, True)}

    # The same index, loaded before the quarantine, keeps honouring it.
    later = T0 + timedelta(hours=2, minutes=10)
    batch(
        engine,
        ctx,
        later,
        [media_item("late-bad", BAD), media_item("late-good", GOOD), media_item("both", BAD, GOOD)],
    )
    assert outcomes(engine, ["late-bad", "late-good", "both"]) == {
        "late-bad": (True, False),
        "late-good": (False, True),
        # The healthy entry alone satisfies the rule, so the item is acted on.
        "both": (False, True),
    }
    with Session(engine) as s:
        rows = s.execute(
            select(Item.platform_item_id, Signal.bank_entry_id, Signal.quarantined).join(Item)
        ).all()
        assert {(pid, q) for pid, e, q in rows if e == ids[BAD]} == {
            ("pre-bad", False),
            *((f"burst-{i}", True) for i in range(10)),
            ("late-bad", True),
            ("both", True),
        }
        assert not any(q for _, e, q in rows if e == ids[GOOD])
        late = s.execute(
            select(Verdict).join(Item).where(Item.platform_item_id == "late-bad")
        ).scalar_one()
        assert late.deadline_at == later + timedelta(hours=4)
        both = s.execute(
            select(Verdict).join(Item).where(Item.platform_item_id == "both")
        ).scalar_one()
        good_signal = s.scalar(
            select(Signal.id).where(
                Signal.item_id == both.item_id, Signal.bank_entry_id == ids[GOOD]
            )
        )
        assert both.signal_ids == [good_signal]
        pre_bad = s.execute(select(Item.id).where(Item.platform_item_id == "pre-bad")).scalar_one()
        assert s.scalar(select(Quarantine.held_matches)) == 12
        assert s.scalar(select(func.count()).select_from(Case)) == 11
        assert verify(s).ok

    # Events say why: the signal is marked, the verdict names the held signals.
    raised = [p for _, _, p in events(engine, "signal.raised") if p["bank_entry_id"] == ids[BAD]]
    assert [p["quarantined"] for p in raised] == [False] + [True] * 12
    verdicts = [p for _, _, p in events(engine, "verdict.reached") if p.get("held_for_review")]
    assert len(verdicts) == 11
    assert {p["held_for_review"] for p in verdicts} == {"bank_entry_quarantined"}
    assert all(p["quarantined_signal_ids"] == p["signal_ids"] for p in verdicts)
    assert all(p["review_required"] for p in verdicts)
    # Older evidence from the entry no longer acts alone either (e.g. when a notice re-evaluates).
    with unit_of_work(engine) as uow:
        (facts,) = signals_of_items(uow, [pre_bad])[pre_bad]
    assert facts.quarantined


def test_release_is_logged_and_the_same_burst_does_not_quarantine_again(
    engine: Engine, tmp_path: Path
) -> None:
    make_bank(engine, "terror", "sha256", "terrorism", [BAD, GOOD])
    ids = entry_ids(engine)
    ctx = tuned_context(engine, tmp_path, **TUNING)
    batch(engine, ctx, T0, [media_item(f"b1-{i}", BAD) for i in range(10)] + plain("p1", 30))
    assert quarantined(engine) == {BAD}
    # An index loaded during the quarantine marks the entry itself ...
    during = tuned_context(engine, tmp_path, **TUNING)
    assert any(r.quarantined for refs in during.index.by_kind["sha256"].values() for r in refs)

    with unit_of_work(engine) as uow:
        with pytest.raises(ValueError, match="give a --reason"):
            release_entry(uow, "terror", ids[BAD], "  ")
        assert release_entry(uow, "terror", ids[GOOD], "not quarantined") is False
        assert release_entry(uow, "terror", ids[BAD], "checked: genuinely viral propaganda")
    assert quarantined(engine) == set()
    ((_, _, payload),) = events(engine, "bank.entry_released")
    with Session(engine) as s:
        q = s.scalars(select(Quarantine)).one()
        assert (q.release_reason, q.released_at is not None) == (
            "checked: genuinely viral propaganda",
            True,
        )
    assert payload == {
        "bank_entry_id": ids[BAD],
        "quarantine_id": q.id,
        "accepted_rate": 0.25,
        "held_matches": 10,
        # The reason is operator text: the chain holds only its digest.
        "reason_sha256": hashlib.sha256(b"checked: genuinely viral propaganda").hexdigest(),
    }

    # ... but the database decides: after the release that index acts alone again,
    # and the same burst (25% in the same window) does not quarantine the entry again.
    batch(
        engine,
        during,
        T0 + timedelta(minutes=20),
        [media_item(f"b2-{i}", BAD) for i in range(10)] + plain("p2", 30),
    )
    assert quarantined(engine) == set()
    assert set(outcomes(engine, [f"b2-{i}" for i in range(10)]).values()) == {(False, True)}
    assert len(events(engine, "bank.entry_quarantined")) == 1


def test_a_steady_entry_is_never_quarantined_and_history_raises_its_baseline(
    engine: Engine, tmp_path: Path
) -> None:
    """A common known-bad hash with a long steady history is not a burst; a new entry is.

    STEADY matches 2 of every 25 items (8%) for a day: below 10 x the 1% prior
    from the start, and its baseline grows to its own rate. Then STEADY and a
    brand-new entry both match 10 of 25 items (40%): 40% is under 10 x STEADY's
    baseline, but far over 10 x the prior that judges the new entry.
    """
    steady = sha("common known-bad meme")
    make_bank(engine, "terror", "sha256", "terrorism", [steady])
    ctx = tuned_context(engine, tmp_path, **{**TUNING, "min_matches": 2})
    for hour in range(24):
        at = T0 + timedelta(hours=hour)
        matching = [media_item(f"s{hour}-{i}", steady) for i in range(2)]
        batch(engine, ctx, at, matching + plain(f"p{hour}", 23))
        assert quarantined(engine) == set(), hour

    day = T0 + timedelta(hours=24)
    fresh = sha("newly listed")
    with unit_of_work(engine, clock=lambda: day) as uow:
        bank = create_bank(uow, "new-list", kind="sha256", category="terrorism", source="test")
        import_entries(uow, bank, [RawEntry(1, fresh)])
    ctx = tuned_context(engine, tmp_path, **{**TUNING, "min_matches": 2})
    records = [media_item(f"x-{i}", steady, fresh) for i in range(10)] + plain("x-plain", 15)
    batch(engine, ctx, day + timedelta(minutes=1), records)
    assert quarantined(engine) == {fresh}
    ((_, _, payload),) = events(engine, "bank.entry_quarantined")
    assert (payload["window_matches"], payload["window_items"], payload["baseline_items"]) == (
        10,
        25,
        0,
    )
    # STEADY alone satisfies the rule, so these items were still acted on.
    assert set(outcomes(engine, [f"x-{i}" for i in range(10)]).values()) == {(False, True)}


def test_withheld_matches_do_not_count(engine: Engine, tmp_path: Path) -> None:
    make_bank(engine, "terror", "sha256", "terrorism", [BAD])
    make_bank(engine, "news-photos", "sha256", "terrorism", [BAD], negative=True)
    ctx = tuned_context(engine, tmp_path, **TUNING)
    out = batch(engine, ctx, T0, [media_item(f"n-{i}", BAD) for i in range(30)])
    assert (out.signals, out.suppressed) == (0, 30)
    assert quarantined(engine) == set()
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(EntryMatchCount)) == 0
        assert s.scalar(select(ScanCount.items)) == 30


def test_duplicates_and_disabled_safeguard_do_not_quarantine(
    engine: Engine, tmp_path: Path
) -> None:
    make_bank(engine, "terror", "sha256", "terrorism", [BAD])
    ctx = tuned_context(engine, tmp_path, **{**TUNING, "enabled": False})
    records = [media_item(f"d-{i}", BAD) for i in range(10)]
    batch(engine, ctx, T0, records)
    assert quarantined(engine) == set()
    # Counting goes on while the safeguard is off; a re-sent batch is not scanned again.
    batch(engine, ctx, T0 + timedelta(minutes=1), records)
    with Session(engine) as s:
        assert s.scalar(select(func.sum(EntryMatchCount.matches))) == 10
        assert s.scalar(select(func.sum(ScanCount.items))) == 10
    on = tuned_context(engine, tmp_path, **TUNING)
    batch(engine, on, T0 + timedelta(minutes=2), [media_item("d-new", BAD)])
    assert quarantined(engine) == {BAD}


def test_counts_older_than_window_and_baseline_are_pruned(engine: Engine, tmp_path: Path) -> None:
    make_bank(engine, "terror", "sha256", "terrorism", [GOOD])
    ctx = tuned_context(engine, tmp_path, **TUNING)
    batch(engine, ctx, T0, [media_item("old", GOOD)])
    batch(engine, ctx, T0 + timedelta(days=1, hours=1, minutes=5), [media_item("new", GOOD)])
    with Session(engine) as s:
        assert len(s.scalars(select(ScanCount.bucket)).all()) == 1
        assert len(s.scalars(select(EntryMatchCount.bucket)).all()) == 1
