"""Importing a council's scheme register: the application service behind
`capital import-register`, the demo and any future API.

The importer (`services.importer`) maps rows to events; this module gives it what the
tracker already holds, checks every row's events against the acting user's roles and the
fold before anything is sent (a row either would refuse is refused whole, so nothing is
half-imported), and publishes the rest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from capital.application.principal import Principal, refuse_types
from capital.application.publishing import publish_in_chunks
from capital.bootstrap import Container
from capital.settings import now_utc
from programme.reference import ReferenceKind, ReferenceList, ReferenceLists, names_in
from programme.scheme import EventRejected, SchemeState, apply
from projection.database import transaction
from projection.references import reference_lists, seed_names
from projection.views import event_outcomes, scheme_history, scheme_state
from services.importer import (
    Field,
    ImportPlan,
    Kind,
    RecordedScheme,
    RegisterFileError,
    RowPlan,
    Severity,
    plan_import,
    read_register,
)
from services.importer.columns import cell_text
from services.importer.register import DETAIL_FIELDS


class RegisterDateError(ValueError):
    """The register is dated after the tracker's today: its events would be in the future."""


@dataclass
class ImportResult:
    plan: ImportPlan
    dry_run: bool
    pending: list[str] = field(default_factory=list)
    """Event ids the tracker had not processed when the import returned (Kafka)."""
    published: int | None = None
    """Events published: what publishing accepted less what the tracker refused (with
    Kafka, events not processed yet count). None on a dry run or with nothing to send."""

    @property
    def events(self) -> int:
        """The events published, or on a dry run the events that would be."""
        return len(self.plan.numbered_events()) if self.published is None else self.published


def import_register(
    container: Container,
    path: Path,
    *,
    sheet: str | None,
    recorded_on: dt.date,
    recorded_at: dt.datetime | None = None,
    principal: Principal,
    dry_run: bool = False,
    wait_seconds: float | None = None,
) -> ImportResult:
    """Read, plan against what the tracker holds, check, and (unless `dry_run`) publish.
    `recorded_at` defaults to a time on `recorded_on`. RegisterFileError when the file
    cannot be used at all: not readable, empty, or without the columns a row needs;
    RegisterDateError when `recorded_on` is after the tracker's today."""
    today = container.settings.current_date()
    if recorded_on > today:
        raise RegisterDateError(
            f"the register's date {recorded_on} is after today ({today}): a register can "
            "only record what has happened by its date"
        )
    recorded_at = recorded_at or _noon_utc(recorded_on)
    table = read_register(path, sheet)
    refs = [ref for row in table.rows if (ref := cell_text(row.get(Field.ref)))]
    with container.sessions() as session:
        states = _recorded_states(session, refs)
        names = reference_lists(session)
    recorded = {scheme_id: recorded for scheme_id, (_, recorded) in states.items()}
    plan = plan_import(table, recorded_on, recorded_at, recorded)
    unusable = [f.message for f in plan.findings if f.severity is Severity.error]
    if unusable:
        raise RegisterFileError(f"{plan.source}: {'; '.join(unusable)}")
    plan = _refuse_what_the_tracker_would(
        plan, {k: state for k, (state, _) in states.items()}, principal
    )
    plan = _refuse_other_spellings(plan, names)
    result = ImportResult(plan, dry_run)
    numbered = plan.numbered_events()
    if dry_run or not numbered:
        return result
    # The register is where a deployment's funding sources and programmes come from: the
    # names its rows use join the lists (other spellings of known ones were refused above).
    with transaction(container.sessions) as session:
        named = [name for _, event in numbered for name in names_in(event)]
        seed_names(session, named, principal.name, now_utc())
    # The plan is made against what the tracker holds, so a repeated fact is already left
    # out: the quick-repeat check is for commands typed twice.
    report = publish_in_chunks(container, numbered, principal, wait_seconds, again=True)
    result.pending = report.pending
    sent = {str(event.event_id) for event in report.published}
    refused = _refused_after_sending(container, sent) if report.errors else set()
    result.published = len(sent - refused)
    refused_by_row: dict[int, list[str]] = {}
    for error in report.errors:
        refused_by_row.setdefault(error.line, []).append(error.reason)
    if refused_by_row:
        # Only a race gets here (another writer, or the principal's roles changed): the rows
        # were checked above. A row's events the tracker did take are named, not hidden.
        result.plan = plan.with_rows(
            [
                _refused_when_sent(row, why, sent - refused)
                if (why := refused_by_row.get(row.row))
                else row
                for row in plan.rows
            ]
        )
    return result


def _refused_after_sending(container: Container, sent: set[str]) -> set[str]:
    """The events among `sent` the tracker has refused."""
    with container.sessions() as session:
        outcomes = event_outcomes(session, sorted(sent))
    return {event_id for event_id, reason in outcomes.items() if reason is not None}


def _refused_when_sent(row: RowPlan, why: list[str], taken: set[str]) -> RowPlan:
    message = "refused when sent: " + "; ".join(why)
    kinds = [event.type.value for event in row.events if str(event.event_id) in taken]
    if kinds:
        message += f"; its other events were sent all the same: {', '.join(kinds)}"
    return row.refuse(Kind.rejected_by_tracker, message)


def _refuse_other_spellings(plan: ImportPlan, names: ReferenceLists) -> ImportPlan:
    """Refuse a row naming a funding source or programme that is another spelling of one
    on the lists or of one an earlier row brings in (`DFE` beside `DfE`), or a retired
    name. A name like no other is new, and joins the list."""
    seen = {kind: set(names.of(kind).current) for kind in ReferenceKind}
    rows: list[RowPlan] = []
    for row in plan.rows:
        named = [name for event in row.events for name in names_in(event)]
        problems: list[str] = []
        for kind, name in named:
            known = ReferenceList(kind, frozenset(seen[kind]), names.of(kind).retired)
            spelling = known.spelling_of(name)
            if name in known.retired or spelling is not None:
                problems.append(known.problem(name) or f"{name!r} is written {spelling!r}")
        if problems:
            row = row.refuse(Kind.misspelt_name, "; ".join(dict.fromkeys(problems)))
        else:
            for kind, name in named:
                seen[kind].add(name)
        rows.append(row)
    return plan.with_rows(rows)


def _recorded_states(
    session: Session, refs: list[str]
) -> dict[str, tuple[SchemeState, RecordedScheme]]:
    """What the tracker holds for the register's schemes it already knows."""
    found: dict[str, tuple[SchemeState, RecordedScheme]] = {}
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


def _refuse_what_the_tracker_would(
    plan: ImportPlan,
    states: dict[str, SchemeState],
    principal: Principal,
) -> ImportPlan:
    """Check each row as publishing and the tracker will: a row with an event the actor's
    roles do not allow, or one the tracker would reject when folded onto the scheme as it
    holds it, is refused whole before anything is sent."""
    rows: list[RowPlan] = []
    for row in plan.rows:
        not_permitted = refuse_types(principal, (event.type for event in row.events))
        if not_permitted:
            rows.append(row.refuse(Kind.not_permitted, not_permitted))
            continue
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
