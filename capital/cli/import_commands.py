"""`capital import-register FILE`: a council's scheme register (CSV or Excel) becomes events.

The importer (`services.importer`) maps rows to events; this module gives it what the
tracker already holds, checks every row's events against the fold before anything is sent
(a row the tracker would refuse is refused whole, so nothing is half-imported), publishes
the rest and reports row by row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from capital.bootstrap import Container
from capital.cli.context import fail, open_container, parse_date
from capital.cli.output import to_json
from capital.publishing import publish
from capital.settings import now_utc
from programme.scheme import EventRejected, SchemeState, apply
from projection.views import scheme_history, scheme_state
from services.importer import (
    Field,
    Finding,
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

WAIT_SECONDS = 120.0
_SEVERITY_COLOUR = {Severity.error: "red", Severity.warning: "yellow", Severity.note: "cyan"}


class ReportFormat(StrEnum):
    table = "table"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("import-register")(import_register_command)


def import_register_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The register: a .csv or .xlsx file.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be imported; publish nothing.")
    ] = False,
    recorded_on: Annotated[
        str | None,
        typer.Option(
            "--recorded-on",
            help="The register's date (YYYY-MM-DD): its events are recorded on it, so "
            "--as-of works, and actual dates after it are not used [default: today].",
        ),
    ] = None,
    sheet: Annotated[
        str | None, typer.Option("--sheet", help="The worksheet of an .xlsx [default: first].")
    ] = None,
    format: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.table,
    wait: Annotated[
        bool, typer.Option("--wait", help="With Kafka, wait until the tracker has processed them.")
    ] = False,
) -> None:
    """Import a scheme register. Each row becomes the events that describe its scheme;
    importing the same register again creates nothing, a later one only what changed.
    Reports row by row what was used, assumed and refused; exit status 1 if any row was
    refused (the other rows are still imported)."""
    register_date = parse_date(recorded_on)
    with open_container(ctx, today=register_date) as container:
        try:
            result = import_register(
                container,
                file,
                sheet=sheet,
                recorded_on=register_date or container.settings.current_date(),
                recorded_at=None if register_date else now_utc(),
                actor=container.settings.current_actor(),
                dry_run=dry_run,
                wait_seconds=WAIT_SECONDS if wait else None,
            )
        except RegisterFileError as error:
            raise fail(str(error), 2) from None
    if format is ReportFormat.json:
        typer.echo(to_json(report_json(result)))
    else:
        print_report(result)
    if result.plan.refused:
        raise typer.Exit(1)


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


# --- reporting ------------------------------------------------------------------------


def totals(result: ImportResult) -> dict[str, int]:
    outcomes = result.plan.outcomes()
    return {
        "rows": len(result.plan.rows),
        **{name: outcomes.get(name, 0) for name in ("new", "updated", "unchanged", "skipped")},
        "refused": outcomes.get("refused", 0),
        "events": result.events,
        "warnings": sum(result.plan.counts(Severity.warning).values()),
        "notes": sum(result.plan.counts(Severity.note).values()),
    }


def summary_line(result: ImportResult) -> str:
    """'41 rows: 41 new, 0 updated, ... · 164 events published · 15 warnings'."""
    counts = totals(result)
    rows = ", ".join(
        f"{counts[name]} {name}"
        for name in ("new", "updated", "unchanged", "skipped", "refused")
        if counts[name] or name in ("new", "refused")
    )
    verb = "to publish" if result.dry_run else "published"
    return (
        f"{_count(counts['rows'], 'row')}: {rows} · {_count(counts['events'], 'event')} {verb} "
        f"· {_count(counts['warnings'], 'warning')}, {_count(counts['notes'], 'note')}"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def print_report(result: ImportResult) -> None:
    plan = result.plan
    mode = " (dry run: nothing published)" if result.dry_run else ""
    typer.echo(f"Register {plan.source}, recorded on {plan.recorded_on}{mode}")
    for finding in plan.findings:
        _echo_finding(finding.severity, finding.message, indent="")
    width = max((len(row.scheme_id or "") for row in plan.rows), default=0)
    for row in plan.rows:
        kinds = ", ".join(event.type.value for event in row.events)
        line = f"row {row.row:>3}  {row.scheme_id or '-':<{width}}  {row.outcome:<9}"
        typer.secho(
            f"{line}  {kinds}".rstrip(), fg="red" if row.refused else None, bold=row.refused
        )
        for finding in row.findings:
            _echo_finding(finding.severity, finding.message, indent="          ")
    typer.echo(summary_line(result))
    if result.pending:
        typer.secho(f"{len(result.pending)} event(s) not yet processed by the tracker", fg="yellow")


def _echo_finding(severity: Severity, message: str, indent: str) -> None:
    typer.secho(f"{indent}{severity.value}: {message}", fg=_SEVERITY_COLOUR[severity])


def report_json(result: ImportResult) -> dict[str, Any]:
    plan = result.plan
    return {
        "source": plan.source,
        "recorded_on": plan.recorded_on,
        "dry_run": result.dry_run,
        "totals": totals(result),
        "findings": [_finding_json(f) for f in plan.findings],
        "rows": [
            {
                "row": row.row,
                "scheme_id": row.scheme_id,
                "outcome": row.outcome,
                "events": [
                    {
                        "event_id": str(event.event_id),
                        "type": event.type.value,
                        "occurred_on": event.occurred_on,
                        "payload": event.payload.model_dump(exclude_none=True),
                    }
                    for event in row.events
                ],
                "findings": [_finding_json(f) for f in row.findings],
            }
            for row in plan.rows
        ],
        "pending": len(result.pending),
    }


def _finding_json(finding: Finding) -> dict[str, str]:
    return {
        "severity": finding.severity.value,
        "kind": finding.kind.value,
        "message": finding.message,
    }
