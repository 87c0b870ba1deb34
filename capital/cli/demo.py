"""`capital demo`: the main job on the embedded default, on a real council's register.

It imports the register shipped in `capital/data` (41 schemes from a council's July 2024
committee pack) as recorded on the pack's date, lets the tracker fold it on the in-memory
bus into SQLite, and prints what a head of capital would look at. Each part of the output
is one step in `STEPS`: to show more (alerts, the budget by funding source, the HTML
pack), write a step and add it there.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from capital.application import reporting
from capital.application.accounts import operator
from capital.application.importing import import_register
from capital.application.principal import Principal
from capital.application.schemes import BOARD_COLUMNS, board
from capital.bootstrap import Container
from capital.cli.context import TodayOption, open_container, parse_date, settings_from
from capital.cli.import_commands import summary_line
from capital.cli.output import Format, emit
from capital.cli.report_commands import print_tables
from programme.position import Position
from projection.database import shown_url
from services.importer import KIND_SUMMARY, Severity
from services.reporter.model import Report, ReportKind
from services.reporter.render import Format as ReportFormat
from services.reporter.render import render

REGISTER = "cype-capital-register-2024.csv"
PACK_DATE = "2024-07-29"
DEMO_ACTOR = "capital-demo"


@dataclass(frozen=True)
class DemoRun:
    """What every step shares: the wired application and the date the demo stands on."""

    container: Container
    today: dt.date
    register: Path

    @property
    def principal(self) -> Principal:
        return operator(self.container.sessions, getpass.getuser(), DEMO_ACTOR)


DemoStep = Callable[[DemoRun], None]


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)


def demo_command(
    ctx: typer.Context,
    today: TodayOption = PACK_DATE,
    fresh: Annotated[bool, typer.Option(help="Start from an empty database.")] = False,
) -> None:
    """Import a real council's capital register (41 schemes from its July 2024 committee
    pack) as recorded on --today, track it on the in-memory bus and show the programme as
    it stood that day."""
    day = parse_date(today) or dt.date.fromisoformat(PACK_DATE)
    settings = settings_from(ctx, bus="memory", today=day)
    if fresh and settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    with open_container(ctx, bus="memory", today=day) as container:
        run = DemoRun(container, day, register_path())
        for step in STEPS:
            step(run)
    typer.echo(
        "Next: capital scheme CYPE-018 · capital schemes --format json · "
        f"capital import-register {register_path()} --dry-run"
    )


def import_shipped_register(run: DemoRun) -> None:
    result = import_register(
        run.container,
        run.register,
        sheet=None,
        recorded_on=run.today,
        principal=run.principal,
    )
    typer.echo(
        f"Imported {run.register.name} into {shown_url(run.container.settings.database_url)}, "
        f"recorded on {run.today}:\n  {summary_line(result)}"
    )
    for kind, count in result.plan.counts(Severity.warning).most_common():
        typer.echo(f"  {count:>3} × {KIND_SUMMARY.get(kind, kind.value)}")
    for row in result.plan.rows:
        if row.refused:
            reasons = "; ".join(f.message for f in row.findings if f.severity is Severity.error)
            typer.secho(f"  row {row.row} {row.scheme_id or ''} refused: {reasons}", fg="red")


def print_programme_board(run: DemoRun) -> None:
    shown = board(run.container, run.principal, Position.as_of(run.today))
    emit(
        shown.rows,
        Format.table,
        BOARD_COLUMNS,
        f"Programme board, judged on {run.today} as known that day",
    )


def run_morning_sweep(run: DemoRun) -> None:
    """The 07:00 sweep of the pack's date: schemes past their completion date that no
    event has flagged yet are raised as overdue (once per scheme and date)."""
    report = run.container.run_daily_sweep(run.today, again=True)
    typer.echo(
        f"Morning sweep of {run.today}: {len(report.raised)} overdue alert(s) raised, "
        f"{report.already_overdue} already raised."
    )


def print_alerts(run: DemoRun) -> None:
    """What heads of capital were told while the register went in."""
    raised = run.container.notifier.alerts()
    rows = [
        {
            "scheme_id": a.alert.scheme_id,
            "kind": a.alert.kind,
            "severity": a.alert.severity,
            "subject": a.alert.subject,
            "delivery_status": a.delivery_status,
        }
        for a in raised
    ]
    emit(
        rows,
        Format.table,
        ["scheme_id", "kind", "severity", "subject", "delivery_status"],
        f"Alerts raised ({len(rows)}); subscribe with `capital subscribers add EMAIL`",
    )


def _report_as_it_stood(run: DemoRun, kind: ReportKind) -> Report:
    return reporting.report(run.container, run.principal, kind, Position.as_of(run.today))


def print_budget_by_source(run: DemoRun) -> None:
    """What finance asks for: budget, forecast and variance per funding source."""
    print_tables(_report_as_it_stood(run, ReportKind.budget_by_source))


def write_committee_pack(run: DemoRun) -> None:
    """The committee highlight pack as it stood on the pack's date, as an HTML file."""
    pack = _report_as_it_stood(run, ReportKind.pack)
    path = Path(f"capital-pack-{run.today}.html").resolve()
    path.write_text(str(render(pack, ReportFormat.html)), encoding="utf-8")
    typer.echo(f"Committee highlight pack written to {path}")


STEPS: tuple[DemoStep, ...] = (
    import_shipped_register,
    print_programme_board,
    run_morning_sweep,
    print_alerts,
    print_budget_by_source,
    write_committee_pack,
)
"""The demo in order; each step prints its own part."""


def register_path() -> Path:
    """The shipped copy of the council's register (provenance: capital/data/README.md)."""
    return _data_file(REGISTER)


def _data_file(name: str) -> Path:
    return Path(str(resources.files("capital") / "data" / name))
