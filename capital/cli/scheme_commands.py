"""Reading the programme: `schemes`, `scheme ID`."""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from typing import Annotated, Any

import typer

from capital.application.schemes import (
    BOARD_COLUMNS,
    SNAG_COLUMNS,
    UnknownScheme,
    board,
    scheme_record,
    snags,
)
from capital.cli.context import (
    AsAtOption,
    AsOfOption,
    KnownOnOption,
    TodayOption,
    chosen_position,
    exit_on_refusal,
    open_container,
    operator_principal,
    parse_date,
)
from capital.cli.output import Format, emit, print_table, to_json
from events import Rag, SchemeStatus
from programme.board import SchemeFilter


def register(app: typer.Typer) -> None:
    app.command("schemes")(schemes_command)
    app.command("scheme")(scheme_command)
    app.command("snags")(snags_command)


def schemes_command(
    ctx: typer.Context,
    today: TodayOption = None,
    as_at: AsAtOption = None,
    known_on: KnownOnOption = None,
    as_of: AsOfOption = None,
    format: Annotated[Format, typer.Option("--format")] = Format.table,
    rag: Annotated[Rag | None, typer.Option("--rag", help="Only this overall RAG.")] = None,
    status: Annotated[SchemeStatus | None, typer.Option("--status")] = None,
    programme: Annotated[str | None, typer.Option("--programme")] = None,
    funding_source: Annotated[
        str | None, typer.Option("--funding-source", help="Schemes with budget from it.")
    ] = None,
    project_manager: Annotated[str | None, typer.Option("--project-manager")] = None,
) -> None:
    """The programme board: every scheme with its dates, slippage and RAG; the filters
    narrow it (all must hold; text is matched without regard to case)."""
    wanted = SchemeFilter(rag, status, programme, funding_source, project_manager)
    with open_container(ctx, today=parse_date(today)) as container:
        position = chosen_position(container, as_at, known_on, as_of, today)
        shown = board(container, operator_principal(container), position, wanted)
    title = f"Programme board {shown.position.about()}"
    if wanted.describe():
        title += f" · {wanted.describe()}"
    emit(shown.rows, format, BOARD_COLUMNS, title)


def snags_command(
    ctx: typer.Context,
    open_only: Annotated[bool, typer.Option("--open", help="Only snags not yet cleared.")] = False,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only open snags past their due date.")
    ] = False,
    scheme: Annotated[str | None, typer.Option("--scheme", help="Only this scheme's.")] = None,
    today: TodayOption = None,
    format: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Snags across the programme, the longest overdue first."""
    with open_container(ctx, today=parse_date(today)) as container:
        on = container.settings.current_date()
        with exit_on_refusal(UnknownScheme):
            found = snags(
                container,
                operator_principal(container),
                scheme_id=scheme,
                open_only=open_only,
                overdue_only=overdue,
            )
    rows = [dataclasses.asdict(row) for row in found]
    emit(rows, format, SNAG_COLUMNS, f"Snags, as on {on}")


class SchemeFormat(StrEnum):
    table = "table"
    json = "json"


def scheme_command(
    ctx: typer.Context,
    scheme_id: Annotated[str, typer.Argument(help="e.g. CYPE-018")],
    today: TodayOption = None,
    as_at: AsAtOption = None,
    known_on: KnownOnOption = None,
    as_of: AsOfOption = None,
    format: Annotated[SchemeFormat, typer.Option("--format")] = SchemeFormat.table,
) -> None:
    """One scheme: its state, RAG (with any override and its reason) and full history."""
    with open_container(ctx, today=parse_date(today)) as container, exit_on_refusal(UnknownScheme):
        position = chosen_position(container, as_at, known_on, as_of, today)
        record = scheme_record(container, operator_principal(container), scheme_id, position)
    details, events = record.scheme, record.history
    if format is SchemeFormat.json:
        typer.echo(to_json({"scheme": details, "history": events}))
        return
    width = max(len(k) for k in details)
    for key, value in details.items():
        if value not in (None, [], {}):
            typer.echo(f"{key.replace('_', ' '):<{width}}  {to_json(value).strip(chr(34))}")
    print_table(
        [{**e, "payload": _history_text(e)} for e in events],
        ["occurred_on", "recorded_on", "type", "actor", "payload"],
        f"History of {details['scheme_id']} {record.position.about()}",
    )


def _history_text(entry: dict[str, Any]) -> str:
    """An event's payload in a line; an amendment as each field's old and new value."""
    if "changes" in entry:
        changes = "; ".join(
            f"{change['field'].replace('_', ' ')}: {change['old'] or '(none)'} -> {change['new']}"
            for change in entry["changes"]
        )
        return f"{changes} ({entry['payload']['reason']})"
    return to_json(entry["payload"]).replace("\n", " ")
