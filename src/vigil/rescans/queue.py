"""Queueing rescan jobs; kept apart from running them so banks can queue without the pipeline.

``vigil.banks.services`` queues a job in the unit of work that adds entries;
running a job needs the pipeline, which needs the banks: this module is the
part of the rescans domain that the banks domain may import.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select

from vigil.banks.models import Bank
from vigil.items.models import Item
from vigil.rescans.models import Rescan, RescanStatus, RescanTrigger
from vigil.unit_of_work import UnitOfWork

COUNTS = ("items_scanned", "signals", "suppressed", "verdicts", "cases_opened", "actions")


def queue_rescan(
    uow: UnitOfWork, bank: Bank, first_entry_id: int, last_entry_id: int, trigger: str
) -> Rescan | None:
    """Queue matching the bank's entries ``first..last`` against every item stored so far.

    Called in the unit of work that adds or re-enables the entries, so entries
    never commit without their job. ``None`` for a negative bank (known-benign
    entries withhold matches, they raise none) and when no item is stored yet.
    """
    RescanTrigger(trigger)  # a typo here would otherwise reach the audit log
    if bank.negative:
        return None
    upto = uow.session.scalar(select(func.max(Item.id)))
    if upto is None:
        return None
    job = Rescan(
        bank_id=bank.id,
        first_entry_id=first_entry_id,
        last_entry_id=last_entry_id,
        trigger=trigger,
        upto_item_id=upto,
        cursor_item_id=0,
        status=RescanStatus.PENDING.value,
        created_at=uow.now(),
        **dict.fromkeys(COUNTS, 0),
    )
    uow.session.add(job)
    uow.session.flush()
    uow.log.record(
        "rescan.queued",
        f"rescan:{job.id}",
        {
            "bank_id": bank.id,
            "first_entry_id": first_entry_id,
            "last_entry_id": last_entry_id,
            "upto_item_id": upto,
            "trigger": trigger,
        },
    )
    return job


def extend_rescans(uow: UnitOfWork, added: Sequence[tuple[int, int, int]]) -> list[int]:
    """Stretch the jobs of entries a running scan has just taken into its index.

    ``added`` holds ``(bank id, first entry id, last entry id)`` ranges that a
    running ingest applied to its bank index. Every item that run committed
    before now was scanned without those entries, including items stored after
    the job was queued, so each job covering them now reaches up to the newest
    item; a finished job becomes pending again and resumes from its cursor.
    Returns the ids of the jobs that were stretched.
    """
    if not added:
        return []
    upto = uow.session.scalar(select(func.max(Item.id)))
    if upto is None:
        return []
    overlaps = [
        (Rescan.bank_id == bank_id)
        & (Rescan.first_entry_id <= last)
        & (Rescan.last_entry_id >= first)
        for bank_id, first, last in added
    ]
    jobs = uow.session.scalars(
        select(Rescan).where(or_(*overlaps), Rescan.upto_item_id < upto).order_by(Rescan.id)
    ).all()
    for job in jobs:
        previous = job.upto_item_id
        job.upto_item_id = upto
        if job.status == RescanStatus.FINISHED.value:
            job.status = RescanStatus.RUNNING.value
            job.finished_at = None
        uow.log.record(
            "rescan.extended",
            f"rescan:{job.id}",
            {"from_upto_item_id": previous, "upto_item_id": upto},
        )
    uow.session.flush()
    return [job.id for job in jobs]
