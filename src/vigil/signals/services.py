"""Recording signals: each one says what matched, in which bank and entry, and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select

from vigil.banks.models import Bank, BankEntry
from vigil.items.models import Notice
from vigil.policy.engine import SignalFacts
from vigil.policy.schema import SignalKind
from vigil.signals.matchers import SignalDraft, Suppression
from vigil.signals.models import Signal
from vigil.signals.pdq_banks import resolve_entries
from vigil.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class RecordedSignal:
    id: int
    item_id: int
    facts: SignalFacts


def notice_draft(item_id: int, notice_id: int, category: str, reporter_type: str) -> SignalDraft:
    who = "a trusted flagger" if reporter_type == "trusted_flagger" else "a user"
    return SignalDraft(
        item_id,
        "notice",
        category,
        f"reported by {who} as {category}",
        notice_id=notice_id,
        notice_category=category,
    )


def record_signals(uow: UnitOfWork, drafts: Sequence[SignalDraft]) -> list[RecordedSignal]:
    if not drafts:
        return []
    drafts, _ = resolve_entries(uow.session, drafts)
    now = uow.now()
    rows = [
        {
            "item_id": d.item_id,
            "kind": d.kind,
            "bank_id": d.entry.bank_id if d.entry else None,
            "bank_entry_id": d.entry.entry_id if d.entry else None,
            "notice_id": d.notice_id,
            "category": d.entry.category if d.entry else d.notice_category,
            "matched": d.matched,
            "reason": d.reason,
            "created_at": now,
            "entry_source": d.entry.source if d.entry else None,
            "distance": d.distance,
            "quarantined": bool(d.entry and d.entry.quarantined),
            "model": d.model,
            "model_version": d.model_version,
            "score": d.score,
        }
        for d in drafts
    ]
    ids = list(
        uow.session.execute(
            insert(Signal).returning(Signal.id, sort_by_parameter_order=True), rows
        ).scalars()
    )
    recorded = []
    for signal_id, d in zip(ids, drafts, strict=True):
        payload: dict[str, object] = {
            "signal_id": signal_id,
            "kind": d.kind,
            "bank_id": d.entry.bank_id if d.entry else None,
            "bank_entry_id": d.entry.entry_id if d.entry else None,
            "notice_id": d.notice_id,
            "reason": d.reason,
        }
        if d.entry is not None:
            # Provenance as it stood at match time; the bank may change later.
            payload["entry_source"] = d.entry.source
            payload["external_id"] = d.entry.external_id
            payload["tags"] = list(d.entry.tags)
            payload["quarantined"] = d.entry.quarantined
        if d.distance is not None:
            payload["distance"] = d.distance
        if d.model is not None:
            # Which model said so, and how strongly; never the text it read.
            payload["model"] = d.model
            payload["model_version"] = d.model_version
            payload["label"] = d.matched
            payload["score"] = d.score
        uow.log.record("signal.raised", f"item:{d.item_id}", payload)
        recorded.append(RecordedSignal(signal_id, d.item_id, facts_of(signal_id, d)))
    return recorded


def record_suppressions(uow: UnitOfWork, suppressed: Sequence[Suppression]) -> None:
    """Log each match that a known-benign entry withheld.

    A withheld match is not evidence, so it is not a signal: it must not reach
    the policy, keep the item's content under retention, or count as a match
    anywhere. The audit log is where "why did nothing happen" lives: the event
    names both entries (ids only, never content) and is hash-chained like the rest.
    """
    _, suppressed = resolve_entries(uow.session, (), suppressed)
    for s in suppressed:
        uow.log.record(
            "signal.suppressed",
            f"item:{s.item_id}",
            {
                "kind": s.kind,
                "bank_id": s.entry.bank_id,
                "bank_entry_id": s.entry.entry_id,
                "by_bank_id": s.by.bank_id,
                "by_bank_entry_id": s.by.entry_id,
                "where": s.where,
                "distance": s.distance,
                "reason": s.reason,
            },
        )


def facts_of(signal_id: int, d: SignalDraft) -> SignalFacts:
    return SignalFacts(
        ref=signal_id,
        kind=SignalKind(d.kind),
        bank=d.entry.bank if d.entry else None,
        bank_category=d.entry.category if d.entry else None,
        notice_category=d.notice_category,
        quarantined=bool(d.entry and d.entry.quarantined),
        model=d.model,
        label=d.matched if d.model is not None else None,
        score=d.score,
    )


def signals_of_items(uow: UnitOfWork, item_ids: Sequence[int]) -> dict[int, list[SignalFacts]]:
    """Every stored signal of these items, as facts for the policy engine.

    A signal counts as quarantined if it was raised so, or if its entry is
    quarantined now: old evidence from an entry held back does not act alone either.
    Notice signals carry their notifier, so repeated notices from one notifier count once.
    """
    out: dict[int, list[SignalFacts]] = {i: [] for i in item_ids}
    rows = uow.session.execute(
        select(
            Signal.id,
            Signal.item_id,
            Signal.kind,
            Bank.name,
            Signal.category,
            Signal.notice_id,
            Signal.quarantined,
            BankEntry.quarantined_at,
            Signal.model,
            Signal.matched,
            Signal.score,
            Notice.reporter,
        )
        .outerjoin(Bank, Bank.id == Signal.bank_id)
        .outerjoin(Notice, Notice.id == Signal.notice_id)
        .outerjoin(BankEntry, BankEntry.id == Signal.bank_entry_id)
        .where(Signal.item_id.in_(item_ids))
        .order_by(Signal.id)
    )
    for (
        sid,
        item_id,
        kind,
        bank,
        category,
        notice_id,
        quarantined,
        since,
        model,
        label,
        score,
        notifier,
    ) in rows:
        out[item_id].append(
            SignalFacts(
                ref=sid,
                kind=SignalKind(kind),
                bank=bank,
                bank_category=category if notice_id is None else None,
                notice_category=category if notice_id is not None else None,
                quarantined=bool(quarantined) or since is not None,
                model=model,
                label=label if model is not None else None,
                score=score,
                notifier=notifier,
            )
        )
    return out
