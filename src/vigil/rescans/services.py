"""Retroactive matching: when a bank gains entries, the items stored before them are matched too.

Items are scanned once, at ingest, against the banks of that moment. Hash lists
grow after the fact, so each batch of new entries queues a rescan job in the
same transaction that adds them (:func:`queue_rescan`). The job matches those
entries, and only those, against the items stored so far, with the negative
banks of the same kind so known-benign content is still withheld, and with the
bank's current settings (threshold, roll-out, transforms, enabled flags).

Lifecycle: ``pending`` when queued; ``running`` from the first chunk of
:func:`run_rescan` (``rescan.started``); ``finished`` when no candidate is left
(``rescan.finished`` with the counts). Each chunk is one unit of work: the
signals, verdicts, cases and actions of its items commit with the cursor that
moves past them (``rescan.progressed``). A run that dies leaves the job
``running``; the next run resumes after the cursor (``rescan.resumed``), and an
item that already has a signal from an entry never gets a second one.

Boundary: a job covers the items with ids up to ``upto_item_id``, the largest
item id when it was queued. Items stored later are matched live by the ingest
run that stores them, against the index that run loaded when it started.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import ColumnElement, Engine, and_, or_, select
from sqlalchemy.orm import Session

from vigil.banks.models import Bank, BankEntry, BankKind
from vigil.items.services import stored_scan_inputs
from vigil.pipeline import BatchOutcome, ScanContext, decide_items
from vigil.policy import services as policy_services
from vigil.policy.schema import Policy
from vigil.rescans.candidates import next_items, pdq_media
from vigil.rescans.models import Rescan, RescanStatus, RescanTrigger
from vigil.rescans.pdq_reach import PdqReach
from vigil.rescans.queue import COUNTS, extend_rescans, queue_rescan
from vigil.safeguards.services import mark_quarantined
from vigil.signals.matchers import BankIndex, ScanResult
from vigil.signals.models import Signal
from vigil.signals.services import record_signals, record_suppressions, signals_of_items
from vigil.unit_of_work import UnitOfWork, unit_of_work

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ActivePolicy",
    "RescanError",
    "RescanReport",
    "RescanStatus",
    "RescanTrigger",
    "activate_policy",
    "extend_rescans",
    "list_rescans",
    "queue_rescan",
    "run_rescan",
]

DEFAULT_CHUNK_SIZE = 1000
_LINKS = (BankKind.URL.value, BankKind.DOMAIN.value)


class RescanError(ValueError):
    pass


@dataclass(frozen=True)
class ActivePolicy:
    """The policy verdicts are reached under, with its stored version."""

    policy: Policy
    version_id: int


def activate_policy(engine: Engine, path: Path | None = None) -> ActivePolicy:
    """Activate the policy at ``path`` (the shipped one by default), as ``vigil ingest`` does."""
    policy, source = policy_services.load_active(path)
    with unit_of_work(engine) as uow:
        version_id = policy_services.activate(uow, policy, source).id
    return ActivePolicy(policy, version_id)


@dataclass(frozen=True)
class RescanReport:
    """A job as it stands, for listings and progress bars."""

    id: int
    bank: str
    kind: str
    status: str
    trigger: str
    first_entry_id: int
    last_entry_id: int
    upto_item_id: int
    cursor_item_id: int
    items_scanned: int
    signals: int
    suppressed: int
    verdicts: int
    cases_opened: int
    actions: int
    created_at: datetime
    updated_at: datetime | None
    # Why a run left the job alone (its bank is disabled); ``None`` otherwise.
    waiting: str | None = None

    @classmethod
    def of(cls, job: Rescan, bank: str, kind: str, waiting: str | None = None) -> RescanReport:
        return cls(
            id=job.id,
            bank=bank,
            kind=kind,
            status=job.status,
            trigger=job.trigger,
            first_entry_id=job.first_entry_id,
            last_entry_id=job.last_entry_id,
            upto_item_id=job.upto_item_id,
            cursor_item_id=job.cursor_item_id,
            items_scanned=job.items_scanned,
            signals=job.signals,
            suppressed=job.suppressed,
            verdicts=job.verdicts,
            cases_opened=job.cases_opened,
            actions=job.actions,
            created_at=job.created_at,
            updated_at=job.updated_at,
            waiting=waiting,
        )


def list_rescans(
    session: Session, bank: str | None = None, *, unfinished: bool = False
) -> list[RescanReport]:
    """Jobs, oldest first; only one bank's, or only those not finished yet."""
    stmt = select(Rescan, Bank.name, Bank.kind).join(Bank, Bank.id == Rescan.bank_id)
    if bank is not None:
        if session.scalar(select(Bank.id).where(Bank.name == bank)) is None:
            raise RescanError(f"no bank named {bank!r}")
        stmt = stmt.where(Bank.name == bank)
    if unfinished:
        stmt = stmt.where(Rescan.status != RescanStatus.FINISHED.value)
    rows = session.execute(stmt.order_by(Rescan.id))
    return [RescanReport.of(job, name, kind) for job, name, kind in rows]


def run_rescan(
    engine: Engine,
    rescan_id: int,
    policy: ActivePolicy,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_chunk: Callable[[RescanReport], None] | None = None,
) -> RescanReport:
    """Run a job to the end, one unit of work per chunk; resumes where an earlier run stopped.

    ``on_chunk`` is called after each chunk has committed. A job whose bank is
    disabled is left as it is (``waiting`` says so) and runs once the bank is back.
    """
    if chunk_size < 1:
        raise RescanError("the chunk size is at least 1")
    with Session(engine) as session:
        job = session.get(Rescan, rescan_id)
        if job is None:
            raise RescanError(f"no rescan {rescan_id}")
        bank = session.get(Bank, job.bank_id)
        assert bank is not None
        name, kind = bank.name, bank.kind
        if job.status == RescanStatus.FINISHED:
            return RescanReport.of(job, name, kind)
        if not bank.enabled:
            return RescanReport.of(job, name, kind, waiting="bank disabled")
        index = BankIndex.load(session, only=_entries_to_load(job, kind))
        pdq_values = (
            list(
                session.scalars(
                    select(BankEntry.value).where(
                        BankEntry.bank_id == job.bank_id,
                        BankEntry.id.between(job.first_entry_id, job.last_entry_id),
                        BankEntry.enabled.is_(True),
                    )
                )
            )
            if kind == BankKind.PDQ
            else []
        )
    # Entries disabled since they were added are not in the index: nothing to look for.
    if kind == BankKind.PDQ:
        live = bool(pdq_values)
    else:
        live = any(
            r.bank_id == job.bank_id for refs in index.by_kind.get(kind, {}).values() for r in refs
        )
    plan = _Plan(
        kind,
        ScanContext(policy.policy, policy.version_id, index),
        chunk_size if live else 0,
        PdqReach.for_bank(index, job.bank_id, pdq_values) if kind == BankKind.PDQ else None,
    )
    first = True
    while True:
        with unit_of_work(engine) as uow:
            job = uow.session.scalars(
                select(Rescan).where(Rescan.id == rescan_id).with_for_update()
            ).one()
            done = job.status == RescanStatus.FINISHED
            if not done:
                if first:
                    _start(uow, job, policy.version_id)
                    first = False
                done = _chunk(uow, job, plan)
            report = RescanReport.of(job, name, kind)
        if on_chunk is not None:
            on_chunk(report)
        if done:
            return report


def _entries_to_load(job: Rescan, kind: str) -> ColumnElement[bool]:
    """The job's entries, and every negative bank that can withhold their matches."""
    negative_kinds = _LINKS if kind in _LINKS else (kind,)
    return or_(
        and_(
            BankEntry.bank_id == job.bank_id,
            BankEntry.id.between(job.first_entry_id, job.last_entry_id),
        ),
        and_(Bank.negative.is_(True), Bank.kind.in_(negative_kinds)),
    )


def _start(uow: UnitOfWork, job: Rescan, policy_version_id: int) -> None:
    subject = f"rescan:{job.id}"
    if job.status == RescanStatus.PENDING:
        job.status = RescanStatus.RUNNING.value
        job.started_at = uow.now()
        uow.log.record("rescan.started", subject, {"policy_version_id": policy_version_id})
    else:
        payload = {"cursor_item_id": job.cursor_item_id, "policy_version_id": policy_version_id}
        uow.log.record("rescan.resumed", subject, payload)


@dataclass(frozen=True)
class _Plan:
    """What a run holds fixed: the bank kind, the policy and index, the chunk size."""

    kind: str
    ctx: ScanContext
    limit: int  # candidates per chunk; 0 when no entry of the job is enabled
    reach: PdqReach | None


def _chunk(uow: UnitOfWork, job: Rescan, plan: _Plan) -> bool:
    """Match the next chunk of candidates and decide on the items that gained signals.

    Returns whether the job is finished.
    """
    limit, ctx = plan.limit, plan.ctx
    ids = next_items(uow.session, plan.kind, job, job.cursor_item_id, limit) if limit else []
    now = uow.now()
    job.updated_at = now
    if ids:
        found = ScanResult()
        to_scan = ids
        if plan.reach is not None:
            near = plan.reach.near(pdq_media(uow.session, ids))
            to_scan = [i for i in ids if i in near]
        for scan_input in stored_scan_inputs(uow, to_scan):
            result = ctx.index.scan(scan_input)
            found.signals += result.signals
            found.suppressed += result.suppressed
        raised = _already_raised(uow, job, ids)
        drafts = [
            d for d in found.signals if d.entry and (d.item_id, d.entry.entry_id) not in raised
        ]
        withheld = [s for s in found.suppressed if (s.item_id, s.entry.entry_id) not in raised]
        # Stored items are no live traffic: nothing is counted, but a quarantine still holds.
        recorded = record_signals(uow, mark_quarantined(uow, drafts))
        record_suppressions(uow, withheld)
        out = BatchOutcome(signals=len(recorded), suppressed=len(withheld))
        gained = sorted({r.item_id for r in recorded})
        if gained:
            # The policy sees every signal of the item, old and new, as a notice would.
            decide_items(uow, ctx, signals_of_items(uow, gained), out)
        counts = {
            "items_scanned": len(ids),
            "signals": out.signals,
            "suppressed": out.suppressed,
            "verdicts": out.verdicts,
            "cases_opened": out.cases_opened,
            "actions": out.actions,
        }
        for name, n in counts.items():
            setattr(job, name, getattr(job, name) + n)
        job.cursor_item_id = ids[-1]
        uow.log.record(
            "rescan.progressed", f"rescan:{job.id}", {"cursor_item_id": ids[-1], **counts}
        )
    if ids and len(ids) == limit:
        return False
    job.cursor_item_id = job.upto_item_id
    job.status = RescanStatus.FINISHED.value
    job.finished_at = now
    uow.log.record("rescan.finished", f"rescan:{job.id}", {c: int(getattr(job, c)) for c in COUNTS})
    return True


def _already_raised(uow: UnitOfWork, job: Rescan, item_ids: Sequence[int]) -> set[tuple[int, int]]:
    """``(item, entry)`` pairs of the job's entries that already have a signal."""
    rows = uow.session.execute(
        select(Signal.item_id, Signal.bank_entry_id).where(
            Signal.item_id.in_(item_ids),
            Signal.bank_id == job.bank_id,
            Signal.bank_entry_id.between(job.first_entry_id, job.last_entry_id),
        )
    )
    return {(item_id, entry_id) for item_id, entry_id in rows if entry_id is not None}
