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
from events import Envelope, Rag, SchemeSnapshot, SchemeStatus
from programme.rag import RagPolicy, snapshot
from programme.scheme import SchemeState
from projection.views import scheme_history, scheme_state, scheme_states

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
class BoardFilter:
    """Which schemes the board shows; every criterion given must hold."""

    rag: Rag | None = None
    status: SchemeStatus | None = None
    programme: str | None = None
    funding_source: str | None = None
    project_manager: str | None = None
    q: str | None = None

    def admits(self, state: SchemeState, row: dict[str, Any]) -> bool:
        def same(a: str | None, b: str | None) -> bool:
            return (a or "").casefold() == (b or "").casefold()

        return (
            (self.rag is None or row["overall_rag"] == self.rag)
            and (self.status is None or row["status"] == self.status)
            and (self.programme is None or same(state.programme, self.programme))
            and (
                self.funding_source is None
                or any(same(f.source, self.funding_source) for f in state.funding)
            )
            and (self.project_manager is None or same(state.project_manager, self.project_manager))
            and (
                self.q is None
                or self.q.casefold() in f"{state.scheme_id} {state.title}".casefold()
            )
        )


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
    where: BoardFilter | None = None,
    today: dt.date | None = None,
) -> Board:
    """Every scheme with its dates, slippage and RAG, filtered."""
    require(principal, Operation.view_programme)
    where = where or BoardFilter()
    shown = position(container, as_of, today)
    with container.sessions() as session:
        states = scheme_states(session, as_of)
    rows = []
    policy = container.settings.rag
    for state in states:
        judged = snapshot(state, shown.judged_on, policy)
        row = judged.model_dump(mode="python")
        if where.admits(state, row):
            rows.append({**row, "rag_reasons": rag_reasons(judged, policy)})
    return Board(shown, rows)


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
        state = scheme_state(session, scheme_id, as_of)
        if state is None:
            raise UnknownScheme(f"unknown scheme {scheme_id!r}")
        history = scheme_history(session, scheme_id, as_of)
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
        "open_snag_list": [{"snag_id": k, "description": v} for k, v in state.open_snags],
        "progress_note": state.progress_note,
        "percent_complete": state.percent_complete,
        "completion_revisions": state.completion_revisions,
        "status_reason": state.status_reason,
    }
    return SchemeRecord(shown, details, [history_row(e) for e in history])


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
    expected = judged.anticipated_completion or judged.baseline_completion
    if judged.overdue and expected is not None:
        late = (judged.evaluated_on - expected).days
        return f"overdue: expected to complete on {expected}, {late} days ago"
    slipped = judged.slippage_days
    if slipped is None:
        return "no baseline completion date to judge against"
    if slipped <= 0:
        return "on or ahead of the baseline completion date"
    limit = policy.amber_max_slippage_days
    band = f"more than {limit} days is red" if slipped > limit else f"up to {limit} is amber"
    return f"slipped {slipped} days past the baseline completion ({band})"


def _budget_reason(judged: SchemeSnapshot, policy: RagPolicy) -> str:
    over = judged.forecast_outturn - judged.budget
    if over <= 0:
        return "forecast outturn within budget"
    if judged.budget == 0:
        return f"forecast £{over:,.0f} against no budget"
    share = over * 100 / judged.budget
    limit = policy.budget_amber_max_overspend_percent
    band = f"more than {limit}% is red" if share > limit else f"up to {limit}% is amber"
    return f"forecast {share:.1f}% over budget ({band})"


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
