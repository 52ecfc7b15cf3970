"""Small enforcement scenarios built directly in the store: accounts, items, verdicts,
decisions with their actions, and a clock the test moves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import select

from vigil.actions.models import Action
from vigil.actions.services import apply_action
from vigil.cases.models import Case, Decision, Outcome
from vigil.items.models import Account, Item, Notice
from vigil.policy.models import PolicyVersion, Verdict
from vigil.policy.schema import ActionKind, Policy
from vigil.policy.services import load_active
from vigil.unit_of_work import UnitOfWork

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A fake clock for ``unit_of_work(engine, clock=...)``."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@cache
def default_policy() -> Policy:
    return load_active()[0]


def account(
    uow: UnitOfWork, pid: str, *, country: str | None = "DE", account_type: str = "private"
) -> Account:
    row = Account(
        platform_account_id=pid,
        handle=f"@{pid}",
        country=country,
        account_type=account_type,
        registered_at=T0 - timedelta(days=400),
        first_seen_at=T0 - timedelta(days=400),
    )
    uow.session.add(row)
    uow.session.flush()
    return row


def post(uow: UnitOfWork, owner: Account, pid: str) -> Item:
    row = Item(
        platform_item_id=pid,
        kind="post",
        account_id=owner.id,
        created_at=uow.now() - timedelta(hours=1),
        ingested_at=uow.now(),
        language="en",
        country=owner.country,
        text="[SYNTHETIC TEST CONTENT] a post",
    )
    uow.session.add(row)
    uow.session.flush()
    return row


def _policy_version(uow: UnitOfWork) -> int:
    found = uow.session.scalar(select(PolicyVersion.id).limit(1))
    if found is not None:
        return found
    row = PolicyVersion(
        name="test", version="1", sha256="0" * 64, source="test", activated_at=uow.now()
    )
    uow.session.add(row)
    uow.session.flush()
    return row.id


def verdict(uow: UnitOfWork, item: Item, category: str, *, rule_id: str = "test-rule") -> Verdict:
    row = Verdict(
        item_id=item.id,
        policy_version_id=_policy_version(uow),
        rule_id=rule_id,
        category=category,
        severity="medium",
        action=ActionKind.REMOVE_CONTENT.value,
        review_required=True,
        deadline_at=None,
        signal_ids=[],
        created_at=uow.now(),
    )
    uow.session.add(row)
    uow.session.flush()
    return row


def notice(uow: UnitOfWork, item: Item, reporter: str, category: str = "hate") -> Notice:
    row = Notice(
        platform_notice_id=f"n-{item.id}-{reporter}-{uow.now().timestamp()}",
        item_id=item.id,
        reporter=reporter,
        reporter_type="user",
        category=category,
        reason="[SYNTHETIC] planted notice reason 5521",
        received_at=uow.now(),
    )
    uow.session.add(row)
    uow.session.flush()
    return row


def case_for(uow: UnitOfWork, item: Item, category: str) -> Case:
    """An open case on the item, from a fresh verdict."""
    v = verdict(uow, item, category)
    row = Case(
        item_id=item.id,
        verdict_id=v.id,
        category=category,
        severity="medium",
        proposed_action=ActionKind.REMOVE_CONTENT.value,
        status="open",
        opened_at=uow.now(),
    )
    uow.session.add(row)
    uow.session.flush()
    return row


def decide(
    uow: UnitOfWork,
    case: Case,
    *,
    reviewer: str = "alice",
    outcome: Outcome = Outcome.VIOLATING,
    actions: Sequence[ActionKind] = (ActionKind.REMOVE_CONTENT,),
    policy: Policy | None = None,
) -> tuple[Decision, list[Action]]:
    """A person's decision on the case, with its actions applied (as a final decision would)."""
    chosen = list(actions) if outcome is Outcome.VIOLATING else []
    row = Decision(
        case_id=case.id,
        reviewer=reviewer,
        outcome=outcome.value,
        clause=case.category if chosen else None,
        actions=[a.value for a in chosen],
        note=None,
        decided_at=uow.now(),
    )
    uow.session.add(row)
    case.status = "closed"
    case.closed_at = uow.now()
    uow.session.flush()
    item = uow.session.get(Item, case.item_id)
    assert item is not None
    applied = []
    for kind in chosen:
        action = apply_action(
            uow,
            kind=kind,
            item=item,
            policy=policy or default_policy(),
            category=case.category,
            rule_id="test-rule",
            decision_id=row.id,
            automated=False,
            actor=reviewer,
        )
        if action is not None:
            applied.append(action)
    return row, applied


def violation(
    uow: UnitOfWork,
    item: Item,
    category: str,
    *,
    reviewer: str = "alice",
    actions: Sequence[ActionKind] = (ActionKind.REMOVE_CONTENT,),
) -> tuple[Decision, list[Action]]:
    """A case opened and decided violating in one go."""
    return decide(uow, case_for(uow, item, category), reviewer=reviewer, actions=actions)


def automated(
    uow: UnitOfWork,
    item: Item,
    category: str,
    kinds: Sequence[ActionKind] = (ActionKind.RESTRICT_VISIBILITY,),
) -> list[Action]:
    """Actions automation took alone on a verdict."""
    v = verdict(uow, item, category)
    out = []
    for kind in kinds:
        action = apply_action(
            uow,
            kind=kind,
            item=item,
            policy=default_policy(),
            category=category,
            rule_id="test-rule",
            verdict_id=v.id,
            automated=True,
        )
        assert action is not None
        out.append(action)
    return out
