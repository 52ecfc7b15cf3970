"""Applying and reversing enforcement actions, keeping item and account status in step with them.

An item's or account's status is the most severe of the actions still holding
it: applying a lighter action never lifts a heavier one, and reversing one
action on appeal restores the item or account only when no other unreversed
action still holds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select

from vigil.actions.models import Action
from vigil.items.models import Account, AccountStatus, Item, ItemStatus
from vigil.policy.schema import ActionKind, Policy
from vigil.statements import services as statements
from vigil.unit_of_work import UnitOfWork

_ITEM_STATUS = {
    ActionKind.REMOVE_CONTENT: ItemStatus.REMOVED,
    ActionKind.RESTRICT_VISIBILITY: ItemStatus.RESTRICTED,
}
# A warning changes no status: it restricts nothing.
_ACCOUNT_STATUS = {
    ActionKind.RESTRICT_ACCOUNT: AccountStatus.RESTRICTED,
    ActionKind.SUSPEND_ACCOUNT: AccountStatus.SUSPENDED,
    ActionKind.CLOSE_ACCOUNT: AccountStatus.CLOSED,
}
_ITEM_RANK = [ItemStatus.VISIBLE, ItemStatus.RESTRICTED, ItemStatus.REMOVED]
_ACCOUNT_RANK = [
    AccountStatus.ACTIVE,
    AccountStatus.RESTRICTED,
    AccountStatus.SUSPENDED,
    AccountStatus.CLOSED,
]


class ActionError(ValueError):
    pass


def _ends_at(kind: ActionKind, now: datetime, policy: Policy) -> datetime | None:
    if kind is ActionKind.SUSPEND_ACCOUNT:
        return now + timedelta(days=policy.enforcement.suspension_days)
    if kind is ActionKind.RESTRICT_ACCOUNT:
        return now + timedelta(days=policy.enforcement.restriction_days)
    return None


def _in_force(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Conditions for an action that still holds its item or account at ``now``."""
    return (Action.reversed_at.is_(None), or_(Action.ends_at.is_(None), Action.ends_at > now))


def _already_in_force(
    uow: UnitOfWork, kind: ActionKind, item: Item | None, account: Account
) -> bool:
    stmt = select(Action.id).where(Action.kind == kind.value, *_in_force(uow.now()))
    if kind in _ACCOUNT_STATUS:
        stmt = stmt.where(Action.account_id == account.id)
    elif item is not None:
        stmt = stmt.where(Action.item_id == item.id)
    else:
        return False  # a warning about the account as a whole may be repeated
    return uow.session.scalar(stmt.limit(1)) is not None


def apply_action(
    uow: UnitOfWork,
    *,
    kind: ActionKind,
    item: Item | None,
    policy: Policy,
    category: str,
    rule_id: str | None,
    account: Account | None = None,
    verdict_id: int | None = None,
    decision_id: int | None = None,
    automated: bool,
    automated_detection: bool = True,
    source: str = "voluntary",
    actor: str = "system",
    signal_kinds: Sequence[str] = (),
    issue_statement: bool = True,
) -> Action | None:
    """Apply ``kind`` to the item or to its author's account; ``None`` if already in force.

    Account actions (``kind.targets_account``) may be taken without an item by
    passing ``account``. A restriction gets a statement of reasons; a warning
    (``warn_account``) is recorded and logged like any action but restricts
    nothing, so it changes no status and has no statement.
    """
    if item is None and account is None:
        raise ActionError(f"{kind.value}: needs the item or the account it applies to")
    if item is None and not kind.targets_account:
        raise ActionError(f"{kind.value}: acts on content, so it needs the item")
    if account is None:
        assert item is not None
        account = uow.session.get(Account, item.account_id)
        assert account is not None
    elif item is not None and item.account_id != account.id:
        raise ActionError(f"{kind.value}: the item does not belong to account #{account.id}")
    if _already_in_force(uow, kind, item, account):
        return None
    now = uow.now()
    ends_at = _ends_at(kind, now, policy)
    action = Action(
        kind=kind.value,
        item_id=item.id if item is not None else None,
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
        assert item is not None
        item.status = max(ItemStatus(item.status), _ITEM_STATUS[kind], key=_ITEM_RANK.index).value
    elif kind in _ACCOUNT_STATUS:
        account.status = max(
            AccountStatus(account.status), _ACCOUNT_STATUS[kind], key=_ACCOUNT_RANK.index
        ).value
    uow.session.flush()
    uow.log.record(
        "action.applied",
        f"action:{action.id}",
        {
            "kind": kind.value,
            "item_id": action.item_id,
            "account_id": account.id,
            "category": category,
            "verdict_id": verdict_id,
            "decision_id": decision_id,
            "automated": automated,
            "ends_at": ends_at,
        },
        actor=actor,
    )
    # No statement for an authority's order to act (DSA Art. 17(5)): the order says why.
    if kind.is_restriction and issue_statement:
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


def _holding(
    uow: UnitOfWork, kinds: Sequence[ActionKind], *conditions: ColumnElement[bool]
) -> list[ActionKind]:
    rows = uow.session.scalars(
        select(Action.kind).where(
            Action.kind.in_([k.value for k in kinds]), *_in_force(uow.now()), *conditions
        )
    )
    return [ActionKind(k) for k in rows]


def item_status_now(uow: UnitOfWork, item: Item) -> ItemStatus:
    """The item's status from the unreversed content actions on it."""
    held = _holding(uow, list(_ITEM_STATUS), Action.item_id == item.id)
    return max((_ITEM_STATUS[k] for k in held), key=_ITEM_RANK.index, default=ItemStatus.VISIBLE)


def account_status_now(uow: UnitOfWork, account: Account) -> AccountStatus:
    """The account's status from its unreversed account actions still in force."""
    held = _holding(uow, list(_ACCOUNT_STATUS), Action.account_id == account.id)
    return max(
        (_ACCOUNT_STATUS[k] for k in held), key=_ACCOUNT_RANK.index, default=AccountStatus.ACTIVE
    )


def reverse_action(uow: UnitOfWork, action: Action, *, appeal_id: int | None, actor: str) -> bool:
    """Undo ``action`` (on appeal): the item or account is restored unless another action holds it.

    The action's row stays, marked reversed. Returns False when it was already reversed.
    """
    if action.reversed_at is not None:
        return False
    kind = ActionKind(action.kind)
    action.reversed_at = uow.now()
    action.reversed_by_appeal_id = appeal_id
    uow.session.flush()
    if kind in _ITEM_STATUS and action.item_id is not None:
        item = uow.session.get(Item, action.item_id)
        assert item is not None
        item.status = item_status_now(uow, item).value
    elif kind in _ACCOUNT_STATUS:
        account = uow.session.get(Account, action.account_id)
        assert account is not None
        account.status = account_status_now(uow, account).value
    uow.session.flush()
    uow.log.record(
        "action.reversed",
        f"action:{action.id}",
        {
            "action_id": action.id,
            "kind": kind.value,
            "item_id": action.item_id,
            "account_id": action.account_id,
            "appeal_id": appeal_id,
        },
        actor=actor,
    )
    return True


def lapse_expired(uow: UnitOfWork, *, limit: int = 500) -> list[Action]:
    """Lift suspensions and account restrictions whose time is up (a small sweep job).

    Each is marked ``lapsed_at`` and logged (``action.lapsed``), and the account
    goes back to the strongest status still in force, so the platform can lift it too.
    """
    now = uow.now()
    due = list(
        uow.session.scalars(
            select(Action)
            .where(
                Action.ends_at.is_not(None),
                Action.ends_at <= now,
                Action.reversed_at.is_(None),
                Action.lapsed_at.is_(None),
            )
            .order_by(Action.ends_at, Action.id)
            .limit(limit)
        )
    )
    for action in due:
        action.lapsed_at = now
        account = uow.session.get(Account, action.account_id)
        assert account is not None
        uow.session.flush()
        account.status = account_status_now(uow, account).value
        uow.session.flush()
        uow.log.record(
            "action.lapsed",
            f"action:{action.id}",
            {
                "action_id": action.id,
                "kind": action.kind,
                "account_id": action.account_id,
                "ends_at": action.ends_at,
                "account_status": account.status,
            },
        )
    return due
