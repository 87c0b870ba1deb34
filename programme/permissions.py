"""Who may record what. Pure: roles and event types in, a decision out.

Project managers log what happens on site; heads of capital also decide on baselines,
overrides, cancellations and money, and correct a scheme's record (`scheme.amended`);
finance revise budgets and forecasts and move money between sources; administrators may do
anything, including managing users.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from events import EventType


class Role(StrEnum):
    project_manager = "project_manager"
    head_of_capital = "head_of_capital"
    finance = "finance"
    admin = "admin"


SITE_UPDATES = frozenset(
    {
        EventType.scheme_started,
        EventType.phase_completed,
        EventType.snagging_raised,
        EventType.snagging_cleared,
        EventType.completion_revised,
        EventType.progress_reported,
        EventType.scheme_completed,
        EventType.scheme_handed_over,
        EventType.scheme_on_hold,
        EventType.scheme_resumed,
    }
)
MONEY = frozenset(
    {EventType.budget_changed, EventType.budget_transferred, EventType.forecast_revised}
)
EVERYTHING = frozenset(EventType)

MAY_RECORD: dict[Role, frozenset[EventType]] = {
    Role.project_manager: SITE_UPDATES,
    Role.finance: MONEY | {EventType.progress_reported},
    Role.head_of_capital: EVERYTHING,
    Role.admin: EVERYTHING,
}


def may_record(roles: frozenset[Role], event_type: EventType) -> bool:
    return any(event_type in MAY_RECORD[role] for role in roles)


def refusal(actor: str, roles: frozenset[Role], event_type: EventType) -> str:
    held = ", ".join(sorted(roles)) or "no role"
    allowed = sorted(role.value for role, kinds in MAY_RECORD.items() if event_type in kinds)
    return (
        f"{actor} ({held}) may not record {event_type.value}: it needs one of {', '.join(allowed)}"
    )


def refusals(actor: str, roles: frozenset[Role], event_types: Iterable[EventType]) -> str | None:
    """Why `actor` may not record some of `event_types`, one reason per type; None when
    they may record them all."""
    denied = dict.fromkeys(t for t in event_types if not may_record(roles, t))
    return "; ".join(refusal(actor, roles, t) for t in denied) or None
