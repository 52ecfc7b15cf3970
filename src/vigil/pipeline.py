"""The spine for one batch: store, match, decide, open cases or act, drop unmatched content.

One batch is one unit of work: every row it writes and every event it appends
commit together, so a crash loses the whole batch or none of it and a re-run
stores each record exactly once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from vigil.actions.services import apply_action
from vigil.cases.services import follow_through, open_or_attach
from vigil.classifiers.services import classify_items
from vigil.items.models import Item
from vigil.items.schemas import ItemRecord, NoticeRecord
from vigil.items.services import mark_scanned, store_items, store_notices
from vigil.policy.engine import SignalFacts, evaluate
from vigil.policy.models import Verdict
from vigil.policy.schema import Policy
from vigil.safeguards.services import guard_matches
from vigil.signals.matchers import BankIndex, SignalDraft, Suppression
from vigil.signals.pdq_banks import cache_dir_for
from vigil.signals.refresh import IndexRefresher, IndexUpdater, chain_position
from vigil.signals.services import (
    notice_draft,
    record_signals,
    record_suppressions,
    signals_of_items,
)
from vigil.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class ScanContext:
    """What a scan run holds fixed: the policy version, and the bank index it starts from.

    ``index_seq`` is the audit log's position read just before the index was
    loaded: a refresher (``vigil.signals.refresh``) applies bank changes after it.
    """

    policy: Policy
    policy_version_id: int
    index: BankIndex
    index_seq: int = 0

    @classmethod
    def load(cls, session: Session, policy: Policy, policy_version_id: int) -> ScanContext:
        """Load the bank index; large PDQ banks come from indexes saved next to the database."""
        position = chain_position(session)
        cache = cache_dir_for(session.get_bind().engine.url.render_as_string(hide_password=True))
        index = BankIndex.load(session, after_seq=position, cache_dir=cache)
        if index.replay_from is None:
            return cls(policy, policy_version_id, index, position)
        # A saved PDQ index reflects an older position: catch up on the bank events since.
        catch_up = IndexUpdater(index, index.replay_from)
        catch_up.poll(session)
        return cls(policy, policy_version_id, index, catch_up.after_seq)

    def refresher(self, engine: Engine, interval: float) -> IndexRefresher:
        """A background thread that keeps ``index`` current with bank changes."""
        return IndexRefresher(engine, IndexUpdater(self.index, self.index_seq), interval)


@dataclass
class BatchOutcome:
    stored: int = 0
    duplicates: int = 0
    notices: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    # Notices refused at intake (DSA Art. 23 limits); they are in ``rejected`` too.
    refused: int = 0
    signals: int = 0
    suppressed: int = 0
    verdicts: int = 0
    cases_opened: int = 0
    actions: int = 0
    content_dropped: int = 0

    def add(self, other: BatchOutcome) -> None:
        for name in (
            "stored",
            "duplicates",
            "notices",
            "refused",
            "signals",
            "suppressed",
            "verdicts",
            "cases_opened",
            "actions",
            "content_dropped",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejected.extend(other.rejected)


def process_batch(
    uow: UnitOfWork,
    ctx: ScanContext,
    items: Sequence[ItemRecord],
    notices: Sequence[tuple[int, NoticeRecord]] = (),
) -> BatchOutcome:
    out = BatchOutcome()
    stored, out.duplicates = store_items(uow, items)
    out.stored = len(stored)
    drafts: list[SignalDraft] = []
    suppressed: list[Suppression] = []
    for s in stored:
        result = ctx.index.scan(s.scan)
        drafts += result.signals
        suppressed += result.suppressed
    drafts += classify_items(ctx.policy, [s.scan for s in stored])
    intake = store_notices(uow, notices)
    new_notices, out.rejected, out.refused = intake.stored, intake.rejected, intake.refused
    out.duplicates += intake.duplicates
    out.notices = len(new_notices)
    drafts += [notice_draft(n.item_id, n.id, n.category, n.reporter_type) for n in new_notices]
    drafts = guard_matches(uow, ctx.policy, len(stored), drafts)
    recorded = record_signals(uow, drafts)
    out.signals = len(recorded)
    record_suppressions(uow, suppressed)
    out.suppressed = len(suppressed)

    facts: dict[int, list[SignalFacts]] = defaultdict(list)
    for r in recorded:
        facts[r.item_id].append(r.facts)
    # Notices may complete a pattern with signals stored in earlier batches.
    noticed = sorted({n.item_id for n in new_notices})
    if noticed:
        facts.update(signals_of_items(uow, noticed))
    decide_items(uow, ctx, facts, out)

    scanned = [s.id for s in stored]
    keep = set(facts)
    drop = (
        []
        if ctx.policy.retention.unmatched_content == "keep"
        else [i for i in scanned if i not in keep]
    )
    mark_scanned(uow, scanned, drop)
    out.content_dropped = len(drop)
    return out


def decide_items(
    uow: UnitOfWork, ctx: ScanContext, facts: dict[int, list[SignalFacts]], out: BatchOutcome
) -> None:
    """Run the policy on each item's signals; open a case or act on its verdict."""
    now = uow.now()
    for item_id in sorted(facts):
        draft = evaluate(ctx.policy, facts[item_id])
        if draft is None:
            continue
        verdict = Verdict(
            item_id=item_id,
            policy_version_id=ctx.policy_version_id,
            rule_id=draft.rule_id,
            category=draft.category,
            severity=draft.severity.value,
            action=draft.action.value,
            review_required=draft.review_required,
            deadline_at=now + draft.deadline if draft.deadline else None,
            signal_ids=list(draft.signal_refs),
            created_at=now,
        )
        uow.session.add(verdict)
        uow.session.flush()
        out.verdicts += 1
        uow.log.record(
            "verdict.reached",
            f"item:{item_id}",
            {
                "verdict_id": verdict.id,
                "policy_version_id": ctx.policy_version_id,
                "rule_id": draft.rule_id,
                "category": draft.category,
                "severity": draft.severity.value,
                "action": draft.action.value,
                "review_required": draft.review_required,
                "signal_ids": list(draft.signal_refs),
                **draft.held_payload(),
            },
        )
        if draft.review_required:
            _, opened = open_or_attach(uow, verdict, ctx.policy)
            out.cases_opened += int(opened)
            continue
        item = uow.session.get(Item, item_id)
        assert item is not None
        action = apply_action(
            uow,
            kind=draft.action,
            item=item,
            policy=ctx.policy,
            category=draft.category,
            rule_id=draft.rule_id,
            verdict_id=verdict.id,
            automated=True,
            signal_kinds=sorted(
                {f.kind.value for f in facts[item_id] if f.ref in draft.signal_refs}
            ),
        )
        out.actions += int(action is not None)
        if action is not None:
            followed = follow_through(
                uow,
                item=item,
                verdict=verdict,
                category=draft.category,
                policy=ctx.policy,
                decision_id=None,
                first_action=action,
                approved=(),
                automated=True,
                actor="system",
                signal_kinds=sorted(
                    {f.kind.value for f in facts[item_id] if f.ref in draft.signal_refs}
                ),
            )
            out.actions += len(followed.escalated)
            out.cases_opened += int(followed.case_opened)
