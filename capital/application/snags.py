"""Snags across the programme: who is putting what right, where, by when."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from capital.bootstrap import Container
from events.payloads import SnagPriority
from programme.scheme import SchemeState, Snag
from projection.views import scheme_state, scheme_states

_PRIORITY_ORDER = {SnagPriority.high: 0, SnagPriority.medium: 1, SnagPriority.low: 2, None: 3}


@dataclass(frozen=True)
class SnagRow:
    scheme_id: str
    scheme_title: str
    snag_id: str
    description: str
    location: str | None
    assignee: str | None
    priority: SnagPriority | None
    raised_on: dt.date | None
    due_on: dt.date | None
    cleared_on: dt.date | None
    days_overdue: int


class UnknownScheme(LookupError):
    pass


def list_snags(
    container: Container,
    today: dt.date,
    *,
    scheme_id: str | None = None,
    open_only: bool = False,
    overdue_only: bool = False,
) -> list[SnagRow]:
    """Snags, open ones first, the longest overdue first, then by due date and priority."""
    with container.sessions() as session:
        if scheme_id is None:
            states = scheme_states(session)
        elif (state := scheme_state(session, scheme_id)) is not None:
            states = [state]
        else:
            raise UnknownScheme(f"unknown scheme {scheme_id!r}")
    rows = [
        snag_row(state, snag, today)
        for state in states
        for snag in (*state.open_snags, *(() if open_only or overdue_only else state.cleared_snags))
        if not overdue_only or snag.is_overdue(today)
    ]
    return sorted(
        rows,
        key=lambda row: (
            row.cleared_on is not None,
            -row.days_overdue,
            row.due_on or dt.date.max,
            _PRIORITY_ORDER[row.priority],
            row.scheme_id,
            row.snag_id,
        ),
    )


def snag_row(state: SchemeState, snag: Snag, today: dt.date) -> SnagRow:
    overdue = (today - snag.due_on).days if snag.due_on and snag.is_overdue(today) else 0
    return SnagRow(
        scheme_id=state.scheme_id,
        scheme_title=state.title,
        snag_id=snag.snag_id,
        description=snag.description,
        location=snag.location,
        assignee=snag.assignee,
        priority=snag.priority,
        raised_on=snag.raised_on,
        due_on=snag.due_on,
        cleared_on=snag.cleared_on,
        days_overdue=overdue,
    )
