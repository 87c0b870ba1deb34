"""Importing a council's scheme register: the application service behind
`capital import-register`, the demo and any future API.

The importer (`services.importer`) maps rows to events; this module gives it what the
tracker already holds, checks every row's events against the fold before anything is sent
(a row the tracker would refuse is refused whole, so nothing is half-imported), and
publishes the rest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from capital.bootstrap import Container
from capital.publishing import publish
from programme.scheme import EventRejected, SchemeState, apply
from projection.views import scheme_history, scheme_state
from services.importer import (
    Field,
    ImportPlan,
    Kind,
    RecordedScheme,
    RowPlan,
    plan_import,
    read_register,
)
from services.importer.columns import cell_text
from services.importer.register import DETAIL_FIELDS


@dataclass
class ImportResult:
    plan: ImportPlan
    dry_run: bool
    pending: list[str] = field(default_factory=list)
    """Event ids the tracker had not processed when the import returned (Kafka)."""

    @property
    def events(self) -> int:
        return len(self.plan.numbered_events())


def import_register(
    container: Container,
    path: Path,
    *,
    sheet: str | None,
    recorded_on: dt.date,
    recorded_at: dt.datetime | None = None,
    actor: str,
    dry_run: bool = False,
    wait_seconds: float | None = None,
) -> ImportResult:
    """Read, plan against what the tracker holds, check, and (unless `dry_run`) publish.
    `recorded_at` defaults to a time on `recorded_on`. RegisterFileError when the file
    cannot be read at all."""
    recorded_at = recorded_at or _noon_utc(recorded_on)
    table = read_register(path, sheet)
    refs = [ref for row in table.rows if (ref := cell_text(row.get(Field.ref)))]
    states = _recorded_states(container, refs)
    recorded = {scheme_id: recorded for scheme_id, (_, recorded) in states.items()}
    plan = plan_import(table, recorded_on, recorded_at, recorded)
    plan = _refuse_what_the_tracker_would(plan, {k: state for k, (state, _) in states.items()})
    result = ImportResult(plan, dry_run)
    if dry_run or not plan.numbered_events():
        return result
    report = publish(container, plan.numbered_events(), actor, wait_seconds)
    result.pending = report.pending
    refused_by_row: dict[int, list[str]] = {}
    for error in report.errors:
        refused_by_row.setdefault(error.line, []).append(error.reason)
    if refused_by_row:
        # Only a race with another writer gets here: the fold accepted these rows above.
        result.plan = plan.with_rows(
            [
                row.refuse(Kind.rejected_by_tracker, "the tracker refused: " + "; ".join(why))
                if (why := refused_by_row.get(row.row))
                else row
                for row in plan.rows
            ]
        )
    return result


def _recorded_states(
    container: Container, refs: list[str]
) -> dict[str, tuple[SchemeState, RecordedScheme]]:
    """What the tracker holds for the register's schemes it already knows."""
    found: dict[str, tuple[SchemeState, RecordedScheme]] = {}
    with container.sessions() as session:
        for scheme_id in dict.fromkeys(refs):
            state = scheme_state(session, scheme_id)
            if state is not None:
                ids = frozenset(event.event_id for event in scheme_history(session, scheme_id))
                found[scheme_id] = (state, recorded_scheme(state, ids))
    return found


def recorded_scheme(state: SchemeState, event_ids: frozenset[Any]) -> RecordedScheme:
    details = {name: getattr(state, name) for name in DETAIL_FIELDS}
    details["public_sensitivity"] = state.public_sensitivity.value
    return RecordedScheme(
        event_ids=event_ids,
        budget_by_source=state.budget_by_source(),
        baseline_completion=state.baseline_completion,
        actual_start=state.actual_start,
        anticipated_completion=state.anticipated_completion,
        actual_completion=state.actual_completion,
        forecast_outturn=state.effective_forecast,
        progress_note=state.progress_note,
        details=details,
    )


def _refuse_what_the_tracker_would(plan: ImportPlan, states: dict[str, SchemeState]) -> ImportPlan:
    """Fold each row's events onto the scheme as the tracker holds it: a row with an event
    the tracker would reject is refused whole before anything is sent."""
    rows: list[RowPlan] = []
    for row in plan.rows:
        state = states.get(row.scheme_id or "")
        try:
            for event in row.events:
                state = apply(state, event)
        except EventRejected as error:
            row = row.refuse(
                Kind.rejected_by_tracker, f"the tracker would refuse {event.type.value}: {error}"
            )
        rows.append(row)
    return plan.with_rows(rows)


def _noon_utc(day: dt.date) -> dt.datetime:
    """A time on `day` that is still `day` in UK time, so --as-of D includes it."""
    return dt.datetime.combine(day, dt.time(12), dt.UTC)
