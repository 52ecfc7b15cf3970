"""A limited notifier's notices beyond the daily allowance are refused at intake, not stored."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.notices.support import Scenario, notice, strict_policy
from tests.support.spine import item
from vigil.items.models import Notice
from vigil.notices.models import Notifier


def _limited(engine: Engine, tmp_path: Path) -> Scenario:
    """A scenario whose notifier 'troll' has just been limited to one notice a day."""
    sc = Scenario(
        engine, tmp_path, strict_policy(tmp_path, warn_after=1, limit_after=2, limit_per_day=1)
    )
    for n in range(2):
        sc.clock.advance(hours=1)
        sc.reported_and_decided("troll", f"t{n}", action_taken=False)
    assert [p["notifier"] for _, p in sc.events("notifier.limited")] == ["troll"]
    return sc


def _stored(engine: Engine) -> set[str]:
    with Session(engine) as s:
        return set(s.scalars(select(Notice.platform_notice_id)))


def test_notices_beyond_the_allowance_are_refused_and_the_batch_goes_on(
    engine: Engine, tmp_path: Path
) -> None:
    sc = _limited(engine, tmp_path)
    sc.clock.advance(hours=25)  # yesterday's notices no longer use today's allowance
    summary = sc.ingest(
        [
            item("x1", "plain words"),
            notice("troll-1", "x1", "troll", "spam"),
            notice("troll-2", "x1", "troll", "spam", reason="[SYNTHETIC] reason text"),
            notice("bob-1", "x1", "bob", "spam"),
            notice("troll-tf", "x1", "troll", "spam", reporter_type="trusted_flagger"),
        ]
    )
    o = summary.outcome
    assert (o.stored, o.notices, o.refused) == (1, 3, 1)
    assert [line for line, _ in o.rejected] == [3]
    assert summary.rejected == 1
    reason = o.rejected[0][1]
    assert reason.startswith("reporter: notifier 'troll' is limited until ")
    assert "DSA Art. 23" in reason
    assert "1 notice(s) a day" in reason
    rejects = [json.loads(ln) for ln in summary.rejects_path.read_text().splitlines()]
    assert rejects == [{"line": 3, "reason": reason}]
    # Not stored, not acknowledged, not a signal; the rest of the batch is.
    assert _stored(engine) == {"n-t0", "n-t1", "troll-1", "bob-1", "troll-tf"}
    row = _notifier(engine)
    assert sc.events("notice.refused") == [
        (
            f"notifier:{row.id}",
            {
                "platform_notice_id": "troll-2",
                "notifier": "troll",
                "reason_code": "notifier_limited",
            },
        )
    ]
    assert "reason text" not in json.dumps(sc.events("notice.refused"))
    assert (row.refused, row.notices) == (1, 4)
    # Its kind follows the capacity of its latest notice, recorded as it changes.
    assert [p["kind"] for _, p in sc.events("notifier.kind_changed")] == ["trusted_flagger"]


def _notifier(engine: Engine) -> Notifier:
    with Session(engine) as s:
        return s.scalars(select(Notifier).where(Notifier.notifier == "troll")).one()


def test_the_allowance_renews_daily_and_the_limit_lapses(engine: Engine, tmp_path: Path) -> None:
    sc = _limited(engine, tmp_path)
    sc.items("x1")
    # The notices that got the notifier limited were acknowledged within the last day.
    first = sc.ingest([notice("r1", "x1", "troll", "spam")])
    assert (first.outcome.notices, first.outcome.refused) == (0, 1)
    sc.clock.advance(hours=24)
    second = sc.ingest([notice("r1", "x1", "troll", "spam"), notice("r2", "x1", "troll", "spam")])
    assert (second.outcome.notices, second.outcome.refused) == (1, 1)
    assert "r1" in _stored(engine)
    assert "r2" not in _stored(engine)
    # Anonymous notices are never refused.
    anon = sc.ingest([notice(f"anon-{n}", "x1", None, "spam") for n in range(3)])
    assert (anon.outcome.notices, anon.outcome.refused) == (3, 0)
    # After limit_for (30 days from the limit) the notifier files freely again.
    row = _notifier(engine)
    assert row.limited_until is not None
    sc.clock.now = row.limited_until
    free = sc.ingest([notice(f"f{n}", "x1", "troll", "spam") for n in range(3)])
    assert (free.outcome.notices, free.outcome.refused) == (3, 0)
    assert len(sc.events("notice.refused")) == 2
    assert _notifier(engine).refused == 2


def test_a_warned_notifier_is_not_refused(engine: Engine, tmp_path: Path) -> None:
    sc = Scenario(engine, tmp_path, strict_policy(tmp_path, warn_after=1, limit_after=2))
    sc.reported_and_decided("troll", "t0", action_taken=False)
    assert _notifier(engine).status == "warned"
    sc.items("x1")
    summary = sc.ingest([notice(f"w{n}", "x1", "troll", "spam") for n in range(4)])
    assert (summary.outcome.notices, summary.outcome.refused) == (4, 0)
