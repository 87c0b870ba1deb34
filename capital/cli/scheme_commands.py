"""Reading the programme: `schemes`, `scheme ID`."""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from typing import Annotated, Any

import typer

from capital.application.snags import UnknownScheme, list_snags, snag_row
from capital.cli.context import (
    AsOfOption,
    TodayOption,
    fail,
    open_container,
    parse_date,
)
from capital.cli.output import Format, emit, print_table, to_json
from events import EventType, SchemeSnapshot
from programme.rag import snapshot
from projection.views import scheme_history, scheme_snapshots, scheme_state

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


def register(app: typer.Typer) -> None:
    app.command("schemes")(schemes_command)
    app.command("scheme")(scheme_command)
    app.command("snags")(snags_command)


def schemes_command(
    ctx: typer.Context,
    today: TodayOption = None,
    as_of: AsOfOption = None,
    format: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """The programme board: every scheme with its dates, slippage and RAG."""
    known_on = parse_date(as_of)
    with open_container(ctx, today=parse_date(today)) as container, container.sessions() as s:
        settings = container.settings
        judged_on = settings.judging_date(known_on)
        snapshots = scheme_snapshots(s, judged_on, settings.rag, known_on)
    rows = [{**snap.model_dump(), "overrides": _overridden(snap)} for snap in snapshots]
    title = f"Programme board, judged on {judged_on}"
    if as_of:
        title += f", as known at {as_of}"
    emit(rows, format, BOARD_COLUMNS, title)


def _overridden(snap: SchemeSnapshot) -> str:
    """Which RAGs are set by override rather than computed, e.g. `budget; overall`."""
    return "; ".join(sorted(snap.overrides))


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
        try:
            snags = list_snags(
                container, on, scheme_id=scheme, open_only=open_only, overdue_only=overdue
            )
        except UnknownScheme as error:
            raise fail(str(error), 2) from None
    rows = [dataclasses.asdict(row) for row in snags]
    emit(rows, format, SNAG_COLUMNS, f"Snags, as on {on}")


class SchemeFormat(StrEnum):
    table = "table"
    json = "json"


def scheme_command(
    ctx: typer.Context,
    scheme_id: Annotated[str, typer.Argument(help="e.g. CYPE-018")],
    today: TodayOption = None,
    as_of: AsOfOption = None,
    format: Annotated[SchemeFormat, typer.Option("--format")] = SchemeFormat.table,
) -> None:
    """One scheme: its state, RAG (with any override and its reason) and full history."""
    known_on = parse_date(as_of)
    with open_container(ctx, today=parse_date(today)) as container, container.sessions() as s:
        settings = container.settings
        judged_on = settings.judging_date(known_on)
        state = scheme_state(s, scheme_id, known_on)
        if state is None:
            raise fail(f"unknown scheme {scheme_id!r}", 2)
        history = scheme_history(s, scheme_id, known_on)
    judged = snapshot(state, judged_on, settings.rag)
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
        "open_snag_list": [
            {
                key: value
                for key, value in dataclasses.asdict(snag_row(state, snag, judged_on)).items()
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
    events = [
        {
            "event_id": str(e.event_id),
            "type": e.type.value,
            "occurred_on": e.occurred_on,
            "recorded_at": e.recorded_at,
            "actor": e.actor,
            "payload": e.payload.model_dump(exclude_none=e.type is EventType.scheme_amended),
            **(
                {"changes": [dataclasses.asdict(c) for c in amendment.changes]}
                if (amendment := amended.get(str(e.event_id)))
                else {}
            ),
        }
        for e in history
    ]
    if format is SchemeFormat.json:
        typer.echo(to_json({"scheme": details, "history": events}))
        return
    width = max(len(k) for k in details)
    for key, value in details.items():
        if value not in (None, [], {}):
            typer.echo(f"{key.replace('_', ' '):<{width}}  {to_json(value).strip(chr(34))}")
    print_table(
        [{**e, "payload": _history_text(e)} for e in events],
        ["occurred_on", "type", "actor", "payload"],
        f"History of {scheme_id}",
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
