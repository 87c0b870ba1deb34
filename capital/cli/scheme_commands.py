"""Reading the programme: `schemes`, `scheme ID`."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from capital.cli.context import (
    AsOfOption,
    TodayOption,
    fail,
    open_container,
    parse_date,
)
from capital.cli.output import Format, emit, print_table, to_json
from events import Rag, SchemeStatus
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


def register(app: typer.Typer) -> None:
    app.command("schemes")(schemes_command)
    app.command("scheme")(scheme_command)


def schemes_command(
    ctx: typer.Context,
    today: TodayOption = None,
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
    known_on = parse_date(as_of)
    wanted = SchemeFilter(rag, status, programme, funding_source, project_manager)
    with open_container(ctx, today=parse_date(today)) as container, container.sessions() as s:
        settings = container.settings
        judged_on = settings.judging_date(known_on)
        snapshots = scheme_snapshots(s, judged_on, settings.rag, known_on, wanted)
    rows = [snap.model_dump() for snap in snapshots]
    title = f"Programme board, judged on {judged_on}"
    if as_of:
        title += f", as known at {as_of}"
    chosen = {k: v for k, v in vars(wanted).items() if v is not None}
    if chosen:
        title += " · " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in chosen.items())
    emit(rows, format, BOARD_COLUMNS, title)


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
        known = known_scheme_ids(s)
        matched = match_scheme_id(scheme_id, known)
        if matched is None:
            raise fail(unknown_scheme(scheme_id, known), 2)
        scheme_id = matched
        state = scheme_state(s, scheme_id, known_on)
        if state is None:
            raise fail(f"scheme {scheme_id} was not yet registered on {known_on}", 2)
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
        "open_snag_list": [{"snag_id": k, "description": v} for k, v in state.open_snags],
        "progress_note": state.progress_note,
        "percent_complete": state.percent_complete,
        "completion_revisions": state.completion_revisions,
        "status_reason": state.status_reason,
    }
    events = [
        {
            "event_id": str(e.event_id),
            "type": e.type.value,
            "occurred_on": e.occurred_on,
            "recorded_at": e.recorded_at,
            "actor": e.actor,
            "payload": e.payload.model_dump(),
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
        [{**e, "payload": to_json(e["payload"]).replace("\n", " ")} for e in events],
        ["occurred_on", "type", "actor", "payload"],
        f"History of {scheme_id}",
    )
