"""Adding staff, changing their roles, and checking a role before a step that needs it.

Names are compared without case or surrounding spaces, as reviewers' names are
elsewhere, so "Bob" cannot approve what "bob" decided by changing case.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from vigil.staff.models import Role, StaffMember
from vigil.unit_of_work import UnitOfWork


class StaffError(ValueError):
    pass


def normal_name(name: str) -> str:
    return name.strip().casefold()


def _roles(roles: Iterable[Role | str]) -> list[str]:
    out: list[str] = []
    for role in roles:
        try:
            out.append(Role(role).value)
        except ValueError:
            raise StaffError(
                f"role: {role!r} is not one of {', '.join(r.value for r in Role)}"
            ) from None
    return sorted(set(out))


def find(uow: UnitOfWork, name: str) -> StaffMember | None:
    return uow.session.scalar(
        select(StaffMember).where(func.lower(StaffMember.name) == normal_name(name))
    )


def add_member(
    uow: UnitOfWork, name: str, roles: Iterable[Role | str], *, by: str = "system"
) -> StaffMember:
    """Register a person with their roles (``staff.added``)."""
    if not name.strip():
        raise StaffError("name: a staff member needs a name")
    if find(uow, name) is not None:
        raise StaffError(f"name: {name!r} is already a staff member")
    member = StaffMember(name=name.strip(), roles=_roles(roles), active=True, added_at=uow.now())
    uow.session.add(member)
    uow.session.flush()
    uow.log.record(
        "staff.added", f"staff:{member.id}", {"name": member.name, "roles": member.roles}, actor=by
    )
    return member


def set_roles(
    uow: UnitOfWork, name: str, roles: Iterable[Role | str], *, by: str = "system"
) -> StaffMember:
    """Replace a person's roles (``staff.roles_changed``)."""
    member = find(uow, name)
    if member is None:
        raise StaffError(f"name: no staff member {name!r}")
    member.roles = _roles(roles)
    uow.session.flush()
    uow.log.record(
        "staff.roles_changed",
        f"staff:{member.id}",
        {"name": member.name, "roles": member.roles},
        actor=by,
    )
    return member


def has_role(uow: UnitOfWork, name: str, role: Role) -> bool:
    member = find(uow, name)
    return member is not None and member.active and role.value in member.roles


def require_role(uow: UnitOfWork, name: str, role: Role, *, to: str) -> StaffMember:
    """The staff member, if active and holding ``role``; else a clear refusal naming the step."""
    member = find(uow, name)
    if member is None or not member.active:
        raise StaffError(f"{name!r} is not registered staff, so cannot {to}")
    if role.value not in member.roles:
        raise StaffError(f"{member.name!r} lacks the {role.value} role needed to {to}")
    return member


def members(uow: UnitOfWork) -> list[StaffMember]:
    return list(uow.session.scalars(select(StaffMember).order_by(StaffMember.name)))
