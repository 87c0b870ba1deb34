"""Reading the programme: the board and one scheme with its history.

One serializer per row: the command line's `--format json` and the HTTP API return the same
dictionaries, built here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from capital.application.principal import Operation, Principal, require
from capital.bootstrap import Container
from events import Envelope
from programme.board import SchemeFilter
from programme.rag import snapshot
from programme.scheme_ids import match_scheme_id, unknown_scheme
from projection.views import known_scheme_ids, scheme_history, scheme_snapshots, scheme_state

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
]


class UnknownScheme(LookupError):
    pass


@dataclass(frozen=True)
class Position:
    """Which position a read shows: judged on `judged_on`, as known at `known_on`."""

    judged_on: dt.date
    known_on: dt.date | None

    def describe(self) -> str:
        text = f"judged on {self.judged_on}"
        return text + (f", as known at {self.known_on}" if self.known_on else "")


@dataclass(frozen=True)
class Board:
    position: Position
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class SchemeRecord:
    position: Position
    scheme: dict[str, Any]
    history: list[dict[str, Any]]


def position(
    container: Container, as_of: dt.date | None, today: dt.date | None = None
) -> Position:
    """RAG is judged on `today` when given, else as on `as_of` (or the real today)."""
    return Position(today or container.settings.judging_date(as_of), as_of)


def board(
    container: Container,
    principal: Principal,
    as_of: dt.date | None = None,
    where: SchemeFilter | None = None,
    today: dt.date | None = None,
) -> Board:
    """Every scheme with its dates, slippage and RAG, or those `where` picks."""
    require(principal, Operation.view_programme)
    shown = position(container, as_of, today)
    with container.sessions() as session:
        snapshots = scheme_snapshots(
            session, shown.judged_on, container.settings.rag, as_of, where
        )
    return Board(shown, [snap.model_dump() for snap in snapshots])


def scheme_record(
    container: Container,
    principal: Principal,
    scheme_id: str,
    as_of: dt.date | None = None,
    today: dt.date | None = None,
) -> SchemeRecord:
    """One scheme: its state, RAG (with any override and its reason) and full history."""
    require(principal, Operation.view_programme)
    shown = position(container, as_of, today)
    with container.sessions() as session:
        known = known_scheme_ids(session)
        matched = match_scheme_id(scheme_id, known)
        if matched is None:
            raise UnknownScheme(unknown_scheme(scheme_id, known))
        scheme_id = matched
        state = scheme_state(session, scheme_id, as_of)
        if state is None:
            raise UnknownScheme(f"scheme {scheme_id} was not yet registered on {as_of}")
        history = scheme_history(session, scheme_id, as_of)
    judged = snapshot(state, shown.judged_on, container.settings.rag)
    details = {
        **judged.model_dump(),
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
        "open_snag_list": [{"snag_id": k, "description": v} for k, v in state.open_snags],
        "progress_note": state.progress_note,
        "percent_complete": state.percent_complete,
        "completion_revisions": state.completion_revisions,
        "status_reason": state.status_reason,
    }
    return SchemeRecord(shown, details, [history_row(e) for e in history])


def history_row(event: Envelope) -> dict[str, Any]:
    return {
        "event_id": str(event.event_id),
        "type": event.type.value,
        "occurred_on": event.occurred_on,
        "recorded_at": event.recorded_at,
        "actor": event.actor,
        "recorded_by": event.recorded_by,
        "payload": event.payload.model_dump(),
    }
