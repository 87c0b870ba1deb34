"""Reading the programme: the board and one scheme with its history.

One serializer per row: the command line's `--format json` and the HTTP API return the same
dictionaries, built here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from capital.application.positions import position
from capital.application.principal import Operation, Principal, require
from capital.bootstrap import Container
from events import Envelope, SchemeSnapshot
from events.payloads import SnagPriority
from programme.board import SchemeFilter
from programme.position import Position
from programme.rag import RagPolicy, late_by, over_budget, snapshot
from programme.scheme import Amendment, SchemeState, Snag
from programme.scheme_ids import match_scheme_id, unknown_scheme
from projection.views import (
    known_scheme_ids,
    scheme_history,
    scheme_snapshots,
    scheme_state,
    scheme_states,
)

BOARD_COLUMNS = [
    "scheme_id",
    "title",
    "status",
    "baseline_completion",
    "anticipated_completion",
    "actual_completion",
    "slippage_days",
    "programme_rag",
    "budget_rag",
    "overall_rag",
    "budget",
    "forecast_outturn",
    "open_snags",
    "overrides",
]


class UnknownScheme(LookupError):
    pass


@dataclass(frozen=True)
class Board:
    position: Position
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class SchemeRecord:
    position: Position
    scheme: dict[str, Any]
    history: list[dict[str, Any]]


def board(
    container: Container,
    principal: Principal,
    shown: Position | None = None,
    where: SchemeFilter | None = None,
) -> Board:
    """Every scheme with its dates, slippage and RAG in the position `shown` (by default:
    now), or those `where` picks."""
    require(principal, Operation.view_programme)
    shown = shown or position(container)
    with container.sessions() as session:
        snapshots = scheme_snapshots(session, shown, container.settings.rag, where)
    # Which RAGs are set by override rather than computed, e.g. `budget; overall`; and why
    # each RAG is what it is.
    rows = [
        {
            **snap.model_dump(),
            "overrides": "; ".join(sorted(snap.overrides)),
            "rag_reasons": rag_reasons(snap, container.settings.rag),
        }
        for snap in snapshots
    ]
    return Board(shown, rows)


def scheme_record(
    container: Container,
    principal: Principal,
    scheme_id: str,
    shown: Position | None = None,
) -> SchemeRecord:
    """One scheme in the position `shown` (by default: now): its state, RAG (with any
    override and its reason) and its history up to then."""
    require(principal, Operation.view_programme)
    shown = shown or position(container)
    with container.sessions() as session:
        scheme_id = _registered_id(session, scheme_id)
        state = scheme_state(session, scheme_id, shown)
        if state is None:
            raise UnknownScheme(f"scheme {scheme_id} was not registered {shown.about()}")
        history = scheme_history(session, scheme_id, shown)
    judged = snapshot(state, shown.judged_on, container.settings.rag)
    details = {
        **judged.model_dump(),
        "rag_reasons": rag_reasons(judged, container.settings.rag),
        "description": state.description,
        "programme": state.programme,
        "contractor": state.contractor,
        "contract_length": state.contract_length,
        "funding": [
            {"source": f.source, "amount": f.amount, "approved_on": f.approved_on}
            for f in state.funding
        ],
        "actual_start": state.actual_start,
        "phases_completed": list(state.phases_completed),
        "open_snag_list": [
            {
                key: value
                for key, value in dataclasses.asdict(snag_row(state, snag, shown.judged_on)).items()
                if key not in ("scheme_id", "scheme_title", "cleared_on")
            }
            for snag in state.open_snags
        ],
        "overdue_snags": judged.overdue_snags,
        "forecast_reason": state.forecast_reason,
        "progress_note": state.progress_note,
        "percent_complete": state.percent_complete,
        "completion_revisions": state.completion_revisions,
        "status_reason": state.status_reason,
    }
    amended = {amendment.event_id: amendment for amendment in state.amendments}
    rows = [history_row(e, amended.get(str(e.event_id))) for e in history]
    return SchemeRecord(shown, details, rows)


def rag_reasons(judged: SchemeSnapshot, policy: RagPolicy) -> dict[str, str]:
    """Why each RAG box is the colour it is, in words a project manager can act on: the
    override and its reason when one is in force, else the rule that decided it."""
    reasons = {
        "programme": _programme_reason(judged, policy),
        "budget": _budget_reason(judged, policy),
        "overall": (
            f"the worse of programme ({judged.programme_rag}) and budget ({judged.budget_rag})"
        ),
    }
    for which, why in judged.overrides.items():
        reasons[which] = f"overridden to {getattr(judged, f'{which}_rag')}: {why}"
    return reasons


def _programme_reason(judged: SchemeSnapshot, policy: RagPolicy) -> str:
    if (late := late_by(judged)) is not None:
        expected, days = late
        return f"overdue: expected to complete on {expected}, {days} days ago"
    slipped = judged.slippage_days
    if slipped is None:
        return "no baseline completion date to judge against"
    if slipped <= 0:
        return "on or ahead of the baseline completion date"
    limit = policy.amber_max_slippage_days
    band = f"more than {limit} days is red" if slipped > limit else f"up to {limit} is amber"
    return f"slipped {slipped} days past the baseline completion ({band})"


def _budget_reason(judged: SchemeSnapshot, policy: RagPolicy) -> str:
    if (overspend := over_budget(judged)) is None:
        return "forecast outturn within budget"
    over, share = overspend
    if share is None:
        return f"forecast £{over:,.0f} against no budget"
    limit = policy.budget_amber_max_overspend_percent
    band = f"more than {limit}% is red" if share > limit else f"up to {limit}% is amber"
    return f"forecast {share:.1f}% over budget ({band})"


def history_row(event: Envelope, amendment: Amendment | None = None) -> dict[str, Any]:
    """One event of a scheme's history; an amendment with each field's old and new value."""
    row: dict[str, Any] = {
        "event_id": str(event.event_id),
        "type": event.type.value,
        "occurred_on": event.occurred_on,
        "recorded_at": event.recorded_at,
        "recorded_on": event.recorded_on,
        "actor": event.actor,
        "recorded_by": event.recorded_by,
        "payload": event.payload.model_dump(exclude_none=amendment is not None),
    }
    if amendment is not None:
        row["changes"] = [dataclasses.asdict(change) for change in amendment.changes]
    return row


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


SNAG_COLUMNS = [
    "scheme_id",
    "snag_id",
    "description",
    "location",
    "assignee",
    "priority",
    "raised_on",
    "due_on",
    "days_overdue",
    "cleared_on",
]
_PRIORITY_ORDER = {SnagPriority.high: 0, SnagPriority.medium: 1, SnagPriority.low: 2, None: 3}


def snags(
    container: Container,
    principal: Principal,
    *,
    scheme_id: str | None = None,
    open_only: bool = False,
    overdue_only: bool = False,
) -> list[SnagRow]:
    """Snags across the programme (or one scheme's): open ones first, the longest overdue
    first, then by due date and priority. Overdue as on the deployment's today."""
    require(principal, Operation.view_programme)
    today = container.settings.current_date()
    with container.sessions() as session:
        if scheme_id is None:
            states = scheme_states(session)
        else:
            state = scheme_state(session, _registered_id(session, scheme_id))
            if state is None:
                raise UnknownScheme(unknown_scheme(scheme_id, known_scheme_ids(session)))
            states = [state]
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


def _registered_id(session: Session, scheme_id: str) -> str:
    """The registered scheme `scheme_id` names (as typed, in any case); UnknownScheme,
    with the nearest ids, if none."""
    known = known_scheme_ids(session)
    matched = match_scheme_id(scheme_id, known)
    if matched is None:
        raise UnknownScheme(unknown_scheme(scheme_id, known))
    return matched


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
