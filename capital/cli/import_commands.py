"""`capital import-register FILE`: a council's scheme register (CSV or Excel) becomes events.

The work is done by `capital.application.importing`; this module reads the options and reports row
by row.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from capital.application.importing import ImportResult, RegisterDateError, import_register
from capital.cli.context import (
    exit_on_refusal,
    fail,
    open_container,
    operator_principal,
    parse_date,
    settings_from,
)
from capital.cli.output import to_json
from capital.settings import now_utc
from services.importer import Finding, RegisterFileError, Severity

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
            help="The register's date (YYYY-MM-DD, not after today): its events are "
            "recorded on it, so --as-of works, and actual dates after it are not used "
            "[default: today].",
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
    refused (the other rows are still imported), 2 if the file cannot be used at all."""
    register_date = parse_date(recorded_on, "--recorded-on")
    if register_date is not None:
        today = settings_from(ctx).current_date()
        if register_date > today:
            raise fail(
                f"--recorded-on {register_date} is after today ({today}): a register can only "
                "record what has happened by its date",
                2,
            )
    with (
        open_container(ctx, today=register_date) as container,
        exit_on_refusal(RegisterFileError, RegisterDateError),
    ):
        result = import_register(
            container,
            file,
            sheet=sheet,
            recorded_on=register_date or container.settings.current_date(),
            recorded_at=None if register_date else now_utc(),
            principal=operator_principal(container),
            dry_run=dry_run,
            wait_seconds=WAIT_SECONDS if wait else None,
        )
    if format is ReportFormat.json:
        typer.echo(to_json(report_json(result)))
    else:
        print_report(result)
    if result.plan.refused:
        raise typer.Exit(1)


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
