"""Applying enforcement actions and keeping item and account status in step with them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select

from vigil.actions.models import Action
from vigil.items.models import Account, AccountStatus, Item, ItemStatus
from vigil.policy.schema import ActionKind, Policy
from vigil.statements import services as statements
from vigil.unit_of_work import UnitOfWork

_ITEM_STATUS = {
    ActionKind.REMOVE_CONTENT: ItemStatus.REMOVED,
    ActionKind.RESTRICT_VISIBILITY: ItemStatus.RESTRICTED,
}
_ACCOUNT_STATUS = {
    ActionKind.SUSPEND_ACCOUNT: AccountStatus.SUSPENDED,
    ActionKind.CLOSE_ACCOUNT: AccountStatus.CLOSED,
}


def apply_action(
    uow: UnitOfWork,
    *,
    kind: ActionKind,
    item: Item,
    policy: Policy,
    category: str,
    rule_id: str | None,
    verdict_id: int | None = None,
    decision_id: int | None = None,
    automated: bool,
    automated_detection: bool = True,
    source: str = "voluntary",
    actor: str = "system",
    signal_kinds: Sequence[str] = (),
) -> Action | None:
    """Apply ``kind`` to the item (or its author's account); ``None`` if already in force."""
    account = uow.session.get(Account, item.account_id)
    assert account is not None
    already = uow.session.scalar(
        select(Action.id).where(Action.item_id == item.id, Action.kind == kind.value).limit(1)
    )
    if already is not None:
        return None
    now = uow.now()
    ends_at = None
    if kind is ActionKind.SUSPEND_ACCOUNT:
        ends_at = now + timedelta(days=policy.enforcement.suspension_days)
    action = Action(
        kind=kind.value,
        item_id=item.id,
        account_id=account.id,
        category=category,
        verdict_id=verdict_id,
        decision_id=decision_id,
        automated=automated,
        applied_at=now,
        ends_at=ends_at,
    )
    uow.session.add(action)
    if kind in _ITEM_STATUS:
        item.status = _ITEM_STATUS[kind].value
    else:
        account.status = _ACCOUNT_STATUS[kind].value
    uow.session.flush()
    uow.log.record(
        "action.applied",
        f"action:{action.id}",
        {
            "kind": kind.value,
            "item_id": item.id,
            "account_id": account.id,
            "category": category,
            "verdict_id": verdict_id,
            "decision_id": decision_id,
            "automated": automated,
            "ends_at": ends_at,
        },
        actor=actor,
    )
    cat = policy.category(category)
    statements.issue_for_action(
        uow,
        action=action,
        item=item,
        account=account,
        statement=cat.statement,
        category_title=cat.title,
        rule_id=rule_id,
        source=source,
        automated_detection=automated_detection,
        automated_decision="fully" if automated else "not_automated",
        suspension_end=ends_at,
        signals=signal_kinds,
    )
    return action
