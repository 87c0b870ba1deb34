"""Who is acting, and what they may do: the one place authorisation is declared.

Every use case takes a `Principal`: a user signed in to the HTTP API or the portal (by
token, password session or single sign-on), or the operator running the command line
against the database. Who may record which events is `programme.permissions`; who may run
the operations around them is `OPERATIONS` here. Entry points never check roles themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from events import Envelope, EventType
from programme.permissions import Role, refusals

ALL_ROLES = frozenset(Role)


class AccessDenied(PermissionError):
    """The principal may not do this; the message names what it needs."""


class Operation(StrEnum):
    """What a person does besides recording events; the value completes "may not ..."."""

    view_programme = "view the programme, its schemes and reports"
    view_alerts = "view alerts"
    manage_users = "manage users"
    manage_subscribers = "manage subscribers"
    acknowledge_alerts = "acknowledge alerts"
    run_sweep = "run the daily sweep"
    operate_outbox = "dispatch or retry deliveries"
    run_scheduler = "run the scheduler"
    add_reference_names = "add funding sources or programmes"
    rename_reference_names = "rename funding sources or programmes"
    rebuild_projection = "rebuild the projection"


# Everyone with a role reads the programme. Heads of capital answer for it: they
# acknowledge its alerts, decide who hears about it and may run its morning sweep by hand.
# Sending, re-sending and the clock are operations work: administrators only.
OPERATIONS: dict[Operation, frozenset[Role]] = {
    Operation.view_programme: ALL_ROLES,
    Operation.view_alerts: ALL_ROLES,
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
    Operation.rebuild_projection: frozenset({Role.admin}),
}

Via = Literal["token", "session", "operator"]


@dataclass(frozen=True)
class Principal:
    """A signed-in user, or the operator of the command line.

    `roles` is None only for an operator while no user is registered: a new embedded
    deployment (the demo) is open until its first administrator is added.
    """

    name: str
    roles: frozenset[Role] | None
    via: Via
    operator: str | None = None

    @classmethod
    def user(cls, name: str, roles: Iterable[Role], via: Via = "token") -> Principal:
        return cls(name, frozenset(roles), via)

    @property
    def recorded_by(self) -> str | None:
        """How an operator's writes are marked: the command line is trusted with the
        database, not with the name it was given, so its account is recorded too."""
        return f"operator:{self.operator}" if self.operator else None

    @property
    def attribution(self) -> str:
        """Who a change is recorded against: the person, and the operator's account when
        it came through the command line under another name."""
        if self.operator is None:
            return self.name
        if self.name == self.operator:
            return f"operator:{self.operator}"
        return f"{self.name} (operator:{self.operator})"

    def holds(self, allowed: frozenset[Role]) -> bool:
        return self.roles is None or bool(self.roles & allowed)

    def describe(self) -> str:
        held = (
            "any role (no user registered yet)"
            if self.roles is None
            else (", ".join(sorted(self.roles)) or "no role")
        )
        return f"{self.name} ({held})"


# An operator holds the database itself: reading it through the command line is never
# refused, whoever they act as. Writes still need the role.
READS = frozenset({Operation.view_programme, Operation.view_alerts})


def require(principal: Principal, operation: Operation) -> None:
    """Refuse `principal` the `operation` unless they hold a role that allows it."""
    allowed = OPERATIONS[operation]
    if principal.via == "operator" and operation in READS:
        return
    if not principal.holds(allowed):
        needed = " or ".join(sorted(allowed))
        raise AccessDenied(
            f"{principal.describe()} may not {operation.value}: it needs the role {needed}"
        )


def may(principal: Principal, operation: Operation) -> bool:
    """Whether `principal` may run `operation`: for showing only what they may use (the
    use case still refuses on its own)."""
    try:
        require(principal, operation)
    except AccessDenied:
        return False
    return True


def may_record(principal: Principal, event_type: EventType) -> bool:
    return refuse_types(principal, [event_type]) is None


def recording_refusal(principal: Principal, event: Envelope) -> str | None:
    """Why `principal` may not record `event`, or None. Only an administrator may record
    an event in someone else's name (relaying another system's events, or entering a
    colleague's paper return), and that is recorded as such."""
    if principal.roles is not None:
        denied = refusals(principal.name, principal.roles, [event.type])
        if denied:
            return denied
    if event.actor not in (None, principal.name) and not principal.holds(frozenset({Role.admin})):
        return f"the event names actor {event.actor!r} but {principal.name} is publishing it"
    return None


def attributed(principal: Principal, event: Envelope) -> dict[str, str | None]:
    """The stamps that make `event` attributable to whoever really sent it."""
    actor = event.actor or principal.name
    recorded_by = principal.recorded_by or (None if actor == principal.name else principal.name)
    return {"actor": actor, "recorded_by": recorded_by}


def refuse_types(principal: Principal, event_types: Iterable[EventType]) -> str | None:
    """Why `principal` may not record some of `event_types` (importing a register)."""
    if principal.roles is None:
        return None
    return refusals(principal.name, principal.roles, event_types)
