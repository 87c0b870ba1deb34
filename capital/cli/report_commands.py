"""`capital report budget-by-source|programme|slippage|pack|changes`: finance and committee
reports.

Every report takes the position it shows: `--as-at D` (as the programme stood on D: the
events that occurred by then), `--known-on K` (only what had been recorded by the end of
K), `--as-of D` (both: what a committee saw on D), and `--today D` (the date RAG is judged
on: the as-at date unless given), `--format`, `--output FILE` and `--public`
(leave out schemes of high public sensitivity). XLSX and PDF are binary and need
`--output`; the other formats print to the terminal unless `--output` is given. `changes
--from D1 [--to D2]` compares the programme as known on two dates; `pack --since D` adds a
page of it, since the last committee.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from capital.application import reporting
from capital.application.errors import InvalidInput
from capital.cli.context import (
    AsAtOption,
    AsOfOption,
    KnownOnOption,
    TodayOption,
    chosen_position,
    exit_on_refusal,
    fail,
    open_container,
    operator_principal,
    parse_date,
)
from capital.cli.output import TableColumn, fitted_rich_table, terminal_width
from events import Rag
from events.values import parse_day
from services.reporter.changes import summary
from services.reporter.model import ChangesReport, Report, ReportKind
from services.reporter.queries import ReconciliationError
from services.reporter.render import (
    FORMATS,
    Format,
    PdfUnavailable,
    render,
    report_subtitle,
    report_title,
    tables,
)
from services.reporter.render.palette import RAG_FILL
from services.reporter.render.tables import Table, cell_text

RAGS = frozenset(rag.value for rag in Rag)

report_app = typer.Typer(
    help="Finance and committee reports: budget by source, programme RAG, slippage, the pack.",
    no_args_is_help=True,
)

OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to this file (required for xlsx and pdf)."),
]
PublicOption = Annotated[
    bool,
    typer.Option("--public", help="Leave out schemes marked high public sensitivity."),
]


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")


def _report_command(kind: ReportKind, default: Format, summary: str) -> Callable[..., None]:
    """One `capital report KIND` command: the same options for every report, the
    formats it comes in named in its help."""

    def command(
        ctx: typer.Context,
        as_at: AsAtOption = None,
        known_on: KnownOnOption = None,
        as_of: AsOfOption = None,
        today: TodayOption = None,
        format: Format = default,
        output: OutputOption = None,
        public: PublicOption = False,
    ) -> None:
        run_report(ctx, kind, (as_at, known_on, as_of), today, format, output, public)

    # The annotations are strings evaluated in this module; the --format help names this
    # report's formats, so it is set as an object here.
    formats = ", ".join(f.value for f in FORMATS[kind])
    command.__annotations__["format"] = Annotated[
        Format, typer.Option("--format", help=f"One of: {formats}.")
    ]
    command.__doc__ = summary
    return command


REPORT_COMMANDS = (
    (
        ReportKind.budget_by_source,
        Format.table,
        "Per funding source: schemes, approved budget, budget changes, budget, forecast "
        "outturn and variance, with a total that reconciles to the sum of the schemes.",
    ),
    (
        ReportKind.programme,
        Format.table,
        "RAG counts by status and by programme, and the red and amber schemes with reasons.",
    ),
    (
        ReportKind.slippage,
        Format.table,
        "Every scheme's baseline and anticipated completion, days slipped, and how many "
        "times and by whom the date was revised, worst first.",
    ),
)
for _kind, _default, _summary in REPORT_COMMANDS:
    report_app.command(_kind.value)(_report_command(_kind, _default, _summary))

SinceOption = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="The last committee's date: add a page of what was recorded after it "
        "(e.g. 2024-06-24 or 24/06/2024).",
    ),
]


@report_app.command(
    ReportKind.pack.value,
    help="The committee highlight pack: summary pages with charts, then one card per scheme "
    "with its budget, funding, dates, contractor, progress and four RAG boxes; with --since, "
    "a page of the changes since the last committee.",
)
def pack(
    ctx: typer.Context,
    as_at: AsAtOption = None,
    known_on: KnownOnOption = None,
    as_of: AsOfOption = None,
    today: TodayOption = None,
    format: Annotated[
        Format, typer.Option("--format", help="One of: html, pdf, json.")
    ] = Format.html,
    output: OutputOption = None,
    public: PublicOption = False,
    since: SinceOption = None,
) -> None:
    since_day = _day("--since", since)
    dates = (as_at, known_on, as_of)
    run_report(ctx, ReportKind.pack, dates, today, format, output, public, since_day)


@report_app.command(
    ReportKind.changes.value,
    help="What was recorded between two dates, scheme by scheme: schemes added, started, "
    "completed, put on hold or cancelled; completion dates moved (from, to, days, why and "
    "who); RAG changes and why; budget and forecast by funding source; snags; overrides; "
    "amendments.",
)
def changes(
    ctx: typer.Context,
    since: Annotated[
        str,
        typer.Option(
            "--from", help="Changes recorded after the end of this date (e.g. 2024-06-24)."
        ),
    ],
    until: Annotated[
        str | None,
        typer.Option("--to", help="... up to the end of this date; today unless given."),
    ] = None,
    format: Annotated[
        Format, typer.Option("--format", help="One of: table, json, csv, html, pdf.")
    ] = Format.table,
    output: OutputOption = None,
    public: PublicOption = False,
) -> None:
    kind = ReportKind.changes
    check_output(kind, format, output)
    first, last = _day("--from", since), _day("--to", until)
    assert first is not None
    if last is not None and first > last:
        raise fail(f"--from {first.isoformat()} is after --to {last.isoformat()}", 2)
    with open_container(ctx) as container:
        principal = operator_principal(container)
        with exit_on_refusal(InvalidInput):
            built = reporting.changes(container, principal, first, last, public)
    show(built, kind, format, output)


def _day(flag: str, text: str | None) -> dt.date | None:
    """A date as people type it into a flag; exit 2 naming the flag when it is not one."""
    if text is None:
        return None
    try:
        return parse_day(text)
    except ValueError as error:
        raise fail(f"{flag}: {error}", 2) from None


def run_report(
    ctx: typer.Context,
    kind: ReportKind,
    dates: tuple[str | None, str | None, str | None],
    today: str | None,
    fmt: Format,
    output: Path | None,
    public: bool,
    since: dt.date | None = None,
) -> None:
    check_output(kind, fmt, output)
    with open_container(ctx, today=parse_date(today)) as container:
        principal = operator_principal(container)
        shown = chosen_position(container, *dates, today)
        try:
            with exit_on_refusal(InvalidInput):
                built = reporting.report(container, principal, kind, shown, public, since)
        except ReconciliationError as error:
            raise fail(f"the {kind.value} report does not reconcile: {error}") from None
    show(built, kind, fmt, output)


def check_output(kind: ReportKind, fmt: Format, output: Path | None) -> None:
    """The format is one the report comes in, and a file is named where one is needed."""
    if fmt not in FORMATS[kind]:
        allowed = ", ".join(f.value for f in FORMATS[kind])
        raise fail(f"the {kind.value} report comes as {allowed}, not {fmt.value}", 2)
    if fmt.binary and output is None:
        raise fail(f"{fmt.value} is a binary format: give --output FILE", 2)
    if output is not None and fmt is Format.table:
        files = ", ".join(f.value for f in FORMATS[kind] if f is not Format.table)
        raise fail(f"--output needs a file format: --format {files}", 2)


def show(built: Report, kind: ReportKind, fmt: Format, output: Path | None) -> None:
    """The report on the terminal, or written to `output`."""
    if fmt is Format.table:
        print_tables(built)
        return
    try:
        rendered = render(built, fmt)
    except PdfUnavailable as error:
        raise fail(str(error)) from None
    if output is None:
        typer.echo(rendered, nl=False)
        return
    try:
        if isinstance(rendered, str):
            output.write_text(rendered, encoding="utf-8")
        else:
            output.write_bytes(rendered)
    except OSError as error:
        raise fail(f"cannot write the report to {output}: {error.strerror or error}", 2) from None
    typer.echo(f"wrote the {kind.value} report ({fmt.value}) to {output}", err=True)


def print_tables(report: Report) -> None:
    width = terminal_width()
    console = Console(width=width)
    console.print(f"[bold]{report_title(report)}[/]")
    console.print(report_subtitle(report))
    if isinstance(report, ChangesReport):
        console.print(f"[bold]{escape(summary(report))}[/]")
    for table in tables(report):
        console.print(_rich_table(table, width))


def _rich_table(table: Table, width: int) -> RichTable:
    columns = [
        TableColumn(
            column.heading,
            numeric=column.numeric,
            wide=column.key in ("title", "reasons", "last_reason", "reason", "why"),
        )
        for column in table.columns
    ]
    rows = [*table.rows, *([table.total] if table.total else [])]
    texts = [[cell_text(row.get(c.key), c.kind) for c in table.columns] for row in rows]

    def markup(index: int, text: str) -> str:
        column = table.columns[index]
        colour = RAG_FILL.get(Rag(text)) if column.kind.value == "rag" and text in RAGS else None
        return f"[bold {colour}]{escape(text)}[/]" if colour else escape(text)

    total_row = [len(table.rows) - 1] if table.total is not None else []
    return fitted_rich_table(table.title, columns, texts, markup, width, total_row)
