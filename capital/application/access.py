"""Users and roles: who the acting user is allowed to be, and what they may operate.

Who may record which events is in `programme.permissions`; this module keeps the users in
the database, answers for an actor, and holds who may run the operations around the
events (`OPERATIONS`): acknowledging alerts, managing subscribers and users, sweeping and
working the outbox. While no user is registered, the product is open, so the embedded demo
runs without set-up; registering the first user (who must be an administrator) turns
enforcement on for every write and every operation.
"""

from __future__ import annotations

from enum import StrEnum

from sqlmodel import Session, func, select

from capital.settings import now_utc
from programme.permissions import Role
from projection.database import SessionFactory, transaction
from projection.tables import UserAccount


class AccessDenied(PermissionError):
    pass


class Operation(StrEnum):
    """What a person does besides recording events; the value completes "may not ..."."""

    manage_users = "manage users"
    manage_subscribers = "manage subscribers"
    acknowledge_alerts = "acknowledge alerts"
    run_sweep = "run the daily sweep"
    operate_outbox = "dispatch or retry deliveries"
    run_scheduler = "run the scheduler"
    add_reference_names = "add funding sources or programmes"
    rename_reference_names = "rename funding sources or programmes"


# Heads of capital answer for the programme: they acknowledge its alerts, decide who hears
# about it and may run its morning sweep by hand. Sending, re-sending and the clock are
# operations work: administrators only.
OPERATIONS: dict[Operation, frozenset[Role]] = {
    Operation.manage_users: frozenset({Role.admin}),
    Operation.manage_subscribers: frozenset({Role.head_of_capital, Role.admin}),
    Operation.acknowledge_alerts: frozenset({Role.head_of_capital, Role.admin}),
    Operation.run_sweep: frozenset({Role.head_of_capital, Role.admin}),
    Operation.operate_outbox: frozenset({Role.admin}),
    Operation.run_scheduler: frozenset({Role.admin}),
    # Finance keep the funding sources; a rename amends every scheme using the name,
    # which only those who may amend a scheme may do.
    Operation.add_reference_names: frozenset({Role.finance, Role.head_of_capital, Role.admin}),
    Operation.rename_reference_names: frozenset({Role.head_of_capital, Role.admin}),
}


def roles_of(session: Session, actor: str) -> frozenset[Role] | None:
    """The actor's roles; None while no user is registered (open mode)."""
    if session.exec(select(func.count()).select_from(UserAccount)).one() == 0:
        return None
    account = session.get(UserAccount, actor)
    if account is None:
        return frozenset()
    return _roles(account)


def require_role(
    session: Session, actor: str, allowed: set[Role] | frozenset[Role], to: str
) -> None:
    """Refuse `actor` unless open mode or they hold one of `allowed` roles."""
    roles = roles_of(session, actor)
    if roles is not None and not roles & allowed:
        needed = " or ".join(sorted(allowed))
        raise AccessDenied(f"{actor} may not {to}: it needs the role {needed}")


def require(session: Session, actor: str, operation: Operation) -> None:
    """Refuse `actor` the `operation` unless open mode or they hold a role it allows."""
    require_role(session, actor, OPERATIONS[operation], operation.value)


def authorise(sessions: SessionFactory, actor: str, operation: Operation) -> None:
    """`require` in a session of its own, for callers that check before they act."""
    with sessions() as session:
        require(session, actor, operation)


def require_admin(session: Session, actor: str) -> None:
    require(session, actor, Operation.manage_users)


def add_user(sessions: SessionFactory, actor: str, name: str, roles: list[Role]) -> UserAccount:
    with transaction(sessions) as session:
        require_admin(session, actor)
        first = roles_of(session, actor) is None
        if first and Role.admin not in roles:
            raise AccessDenied(
                "the first user registered must be an admin (--role admin): registering a "
                "user turns on role checks for every write"
            )
        account = session.get(UserAccount, name)
        if Role.admin not in roles and _admins(session) == [name]:
            raise AccessDenied(
                f"{name} is the last administrator and would lose the admin role; "
                "add another admin first"
            )
        account = account or UserAccount(name=name, roles="", added_by=actor, added_at=now_utc())
        account.roles = ",".join(sorted({role.value for role in roles}))
        account.added_by, account.added_at = actor, now_utc()
        session.add(account)
        return account


def remove_user(sessions: SessionFactory, actor: str, name: str) -> bool:
    with transaction(sessions) as session:
        require_admin(session, actor)
        account = session.get(UserAccount, name)
        if account is None:
            return False
        everyone = session.exec(select(func.count()).select_from(UserAccount)).one()
        if _admins(session) == [name] and everyone > 1:
            raise AccessDenied(f"{name} is the last administrator; add another admin first")
        session.delete(account)
        return True


def list_users(sessions: SessionFactory) -> list[UserAccount]:
    with sessions() as session:
        return list(session.exec(select(UserAccount).order_by(UserAccount.name)))


def _roles(account: UserAccount) -> frozenset[Role]:
    return frozenset(Role(name) for name in account.roles.split(",") if name)


def _admins(session: Session) -> list[str]:
    accounts = session.exec(select(UserAccount).order_by(UserAccount.name)).all()
    return [a.name for a in accounts if Role.admin in _roles(a)]
