"""Issuing and removing strikes, previewing escalation, and an account's standing.

The caller that upholds a violation (a case decision, or an automated action)
calls :func:`issue` in the same unit of work and applies the returned
escalation steps itself; :func:`preview_escalation` says beforehand what they
will be (e.g. for a four-eyes confirmation). An appeal that reverses a
decision calls :func:`remove_for`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select

from vigil.actions.models import Action
from vigil.cases.models import Case, Decision
from vigil.items.models import Account, Item
from vigil.policy.models import Verdict
from vigil.policy.schema import ActionKind, Escalation, Policy
from vigil.strikes.models import Strike
from vigil.strikes.standing import (
    Concern,
    StrikeFact,
    VerdictFact,
    active_weight,
    escalation_steps,
    of_concern,
)
from vigil.unit_of_work import UnitOfWork


class StrikeError(ValueError):
    pass


@dataclass(frozen=True)
class IssuedStrike:
    """The strike issued (None when the category weighs nothing) and the steps it crossed."""

    strike: Strike | None
    escalation: list[ActionKind]
    weight_before: int
    weight_after: int


def fact(strike: Strike) -> StrikeFact:
    return StrikeFact(
        strike_id=strike.id,
        category=strike.category,
        weight=strike.weight,
        issued_at=strike.issued_at,
        expires_at=strike.expires_at,
        removed_at=strike.removed_at,
    )


def strikes_of(uow: UnitOfWork, account_id: int) -> list[Strike]:
    """Every strike the account ever received, oldest first."""
    return list(
        uow.session.scalars(
            select(Strike)
            .where(Strike.account_id == account_id)
            .order_by(Strike.issued_at, Strike.id)
        )
    )


def weight_now(uow: UnitOfWork, account_id: int) -> int:
    """The account's active strike weight now."""
    return active_weight((fact(s) for s in strikes_of(uow, account_id)), uow.now())


def _strike_weight(policy: Policy, category: str) -> int:
    if category not in policy.categories:
        raise StrikeError(
            f"category: {category!r} is not a category of policy {policy.policy} {policy.version}"
        )
    return policy.category(category).strike.weight


def preview_escalation(
    uow: UnitOfWork, account_id: int, category: str, policy: Policy
) -> list[ActionKind]:
    """The account actions a strike in ``category`` would trigger now; changes nothing."""
    weight = _strike_weight(policy, category)
    if weight == 0:
        return []
    before = weight_now(uow, account_id)
    return escalation_steps(policy.enforcement, before, before + weight)


def issue(
    uow: UnitOfWork,
    *,
    account_id: int,
    item_id: int | None,
    category: str,
    policy: Policy,
    decision_id: int | None,
    action_id: int | None,
    actor: str = "system",
) -> IssuedStrike:
    """Issue the strike for an upheld violation; returns it and the escalation steps it crossed.

    The steps are logged (``account.escalated``) but not applied: the caller
    applies them, through its own four-eyes rules. One strike per decision (or
    per automated action): a second call returns the first with no escalation.
    """
    weight = _strike_weight(policy, category)
    now = uow.now()
    before = weight_now(uow, account_id)
    if weight == 0:
        return IssuedStrike(None, [], before, before)
    if decision_id is not None or action_id is not None:
        same = (
            Strike.decision_id == decision_id
            if decision_id is not None
            else Strike.action_id == action_id
        )
        existing = uow.session.scalar(
            select(Strike).where(Strike.account_id == account_id, same, Strike.removed_at.is_(None))
        )
        if existing is not None:
            return IssuedStrike(existing, [], before, before)
    strike = Strike(
        account_id=account_id,
        item_id=item_id,
        category=category,
        weight=weight,
        issued_at=now,
        expires_at=now + policy.category(category).strike.expires_delta,
        decision_id=decision_id,
        action_id=action_id,
    )
    uow.session.add(strike)
    uow.session.flush()
    uow.log.record(
        "strike.issued",
        f"strike:{strike.id}",
        {
            "strike_id": strike.id,
            "account_id": account_id,
            "category": category,
            "weight": weight,
            "expires_at": strike.expires_at,
            "decision_id": decision_id,
            "action_id": action_id,
        },
        actor=actor,
    )
    after = before + weight
    steps = escalation_steps(policy.enforcement, before, after)
    for step in steps:
        uow.log.record(
            "account.escalated",
            f"account:{account_id}",
            {
                "account_id": account_id,
                "weight_before": before,
                "weight_after": after,
                "action": step.value,
            },
            actor=actor,
        )
    return IssuedStrike(strike, steps, before, after)


def remove_for(
    uow: UnitOfWork,
    *,
    decision_id: int | None = None,
    action_ids: Sequence[int] = (),
    appeal_id: int | None,
    actor: str,
) -> list[Strike]:
    """Remove (on appeal) the strikes issued for a decision or for these actions; returns them."""
    matches = []
    if decision_id is not None:
        matches.append(Strike.decision_id == decision_id)
    if action_ids:
        matches.append(Strike.action_id.in_(list(action_ids)))
    if not matches:
        return []
    removed = list(
        uow.session.scalars(
            select(Strike).where(or_(*matches), Strike.removed_at.is_(None)).order_by(Strike.id)
        )
    )
    now = uow.now()
    for strike in removed:
        strike.removed_at = now
        strike.removed_by_appeal_id = appeal_id
        uow.session.flush()
        uow.log.record(
            "strike.removed",
            f"strike:{strike.id}",
            {"strike_id": strike.id, "account_id": strike.account_id, "appeal_id": appeal_id},
            actor=actor,
        )
    return removed


def upheld_verdicts(uow: UnitOfWork, account_id: int) -> list[VerdictFact]:
    """Verdicts on the account's own items that led to an action still standing.

    A verdict awaiting review, one a reviewer found not violating (such as a
    notice that was not upheld), and one whose action was reversed on appeal
    do not count.
    """
    standing = Action.reversed_at.is_(None)
    by_automation = select(Action.verdict_id).where(Action.verdict_id.is_not(None), standing)
    by_decision = (
        select(Case.verdict_id)
        .join(Decision, Decision.case_id == Case.id)
        .join(Action, Action.decision_id == Decision.id)
        .where(standing)
    )
    rows = uow.session.execute(
        select(Verdict.id, Verdict.category, Verdict.created_at)
        .join(Item, Item.id == Verdict.item_id)
        .where(
            Item.account_id == account_id,
            or_(Verdict.id.in_(by_automation), Verdict.id.in_(by_decision)),
        )
        .order_by(Verdict.created_at, Verdict.id)
    )
    return [VerdictFact(verdict_id=r.id, category=r.category, at=r.created_at) for r in rows]


@dataclass(frozen=True)
class AccountStanding:
    account: Account
    active: list[Strike]
    expired: list[Strike]
    removed: list[Strike]
    active_weight: int
    next_step: Escalation | None  # the next escalation step the account has not reached
    concern: Concern


def standing(uow: UnitOfWork, account_id: int, policy: Policy) -> AccountStanding:
    """The account's strikes (active, expired, removed on appeal), weight and of-concern status."""
    account = uow.session.get(Account, account_id)
    if account is None:
        raise StrikeError(f"no account #{account_id}")
    now = uow.now()
    rows = strikes_of(uow, account_id)
    facts = [fact(s) for s in rows]
    active = [s for s, f in zip(rows, facts, strict=True) if f.active_at(now)]
    removed = [s for s in rows if s.removed_at is not None]
    expired = [s for s in rows if s.removed_at is None and s.expires_at <= now]
    weight = active_weight(facts, now)
    next_step = next((s for s in policy.enforcement.escalation if s.at > weight), None)
    concern = of_concern(
        facts, upheld_verdicts(uow, account_id), now, policy.enforcement.of_concern
    )
    return AccountStanding(account, active, expired, removed, weight, next_step, concern)


def account_by_platform_id(uow: UnitOfWork, platform_account_id: str) -> Account:
    account = uow.session.scalar(
        select(Account).where(Account.platform_account_id == platform_account_id)
    )
    if account is None:
        raise StrikeError(f"platform_account_id: no account {platform_account_id!r}")
    return account
