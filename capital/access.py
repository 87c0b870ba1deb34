"""Users and roles: who the acting user is allowed to be.

The rules are in `programme.permissions`; this module keeps the users in the database and
answers for an actor. While no user is registered, the product is open, so the embedded
demo runs without set-up; registering the first user (who must be an administrator)
turns enforcement on for every write.
"""

from __future__ import annotations

from sqlmodel import Session, func, select

from capital.settings import now_utc
from programme.permissions import Role
from projection.database import SessionFactory, transaction
from projection.tables import UserAccount


class AccessDenied(PermissionError):
    pass


def roles_of(session: Session, actor: str) -> frozenset[Role] | None:
    """The actor's roles; None while no user is registered (open mode)."""
    if session.exec(select(func.count()).select_from(UserAccount)).one() == 0:
        return None
    account = session.get(UserAccount, actor)
    if account is None:
        return frozenset()
    return frozenset(Role(name) for name in account.roles.split(",") if name)


def require_role(session: Session, actor: str, allowed: set[Role], to: str) -> None:
    """Refuse `actor` unless open mode or they hold one of `allowed` roles."""
    roles = roles_of(session, actor)
    if roles is not None and not roles & allowed:
        needed = " or ".join(sorted(allowed))
        raise AccessDenied(f"{actor} may not {to}: it needs the role {needed}")


def require_admin(session: Session, actor: str) -> None:
    require_role(session, actor, {Role.admin}, "manage users")


def add_user(sessions: SessionFactory, actor: str, name: str, roles: list[Role]) -> UserAccount:
    with transaction(sessions) as session:
        require_admin(session, actor)
        first = roles_of(session, actor) is None
        if first and Role.admin not in roles:
            raise AccessDenied(
                "the first user registered must be an admin (--role admin): registering a "
                "user turns on role checks for every write"
            )
        account = session.get(UserAccount, name) or UserAccount(
            name=name, roles="", added_by=actor, added_at=now_utc()
        )
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
        admins = [a for a in session.exec(select(UserAccount)).all() if Role.admin.value in a.roles]
        if [a.name for a in admins] == [name] and len(session.exec(select(UserAccount)).all()) > 1:
            raise AccessDenied(f"{name} is the last administrator; add another admin first")
        session.delete(account)
        return True


def list_users(sessions: SessionFactory) -> list[UserAccount]:
    with sessions() as session:
        return list(session.exec(select(UserAccount).order_by(UserAccount.name)))
