"""The programme: the board, one scheme, and the reports."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from fastapi.concurrency import run_in_threadpool

from capital.api.responses import ExactJSONResponse
from capital.api.security import ContainerDep, CurrentPrincipal
from capital.application import positions, reporting, schemes
from capital.application.reporting import (
    Format,
    PdfUnavailable,
    ReconciliationError,
    ReportKind,
)
from events import Rag, SchemeStatus
from programme.board import SchemeFilter
from programme.position import Position

router = APIRouter(tags=["programme"])


def shown_position(
    container: ContainerDep,
    as_at: Annotated[
        dt.date | None,
        Query(description="The programme as it stood on this date: events that occurred by then."),
    ] = None,
    known_on: Annotated[
        dt.date | None,
        Query(description="Only what had been recorded by the end of this date."),
    ] = None,
    as_of: Annotated[
        dt.date | None,
        Query(description="What a committee saw on this date: as at it and as known on it."),
    ] = None,
    today: Annotated[
        dt.date | None,
        Query(description="Judge RAG as on this date; defaults to the as-at date, else today."),
    ] = None,
) -> Position:
    """The position the query's dates pick (all default to now)."""
    return positions.position(container, as_at, known_on, as_of, today)


ShownPosition = Annotated[Position, Depends(shown_position)]
REPORT_FORMATS = [f for f in Format if f is not Format.table]


@router.get("/api/schemes")
def list_schemes(
    container: ContainerDep,
    principal: CurrentPrincipal,
    shown: ShownPosition,
    rag: Annotated[Rag | None, Query(description="Overall RAG.")] = None,
    status: SchemeStatus | None = None,
    programme: Annotated[str | None, Query(max_length=200)] = None,
    funding_source: Annotated[str | None, Query(max_length=200)] = None,
    project_manager: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in the id or title.")] = None,
) -> ExactJSONResponse:
    """The programme board: every scheme with dates, slippage and RAG, filtered. Rows are
    the rows of `capital schemes --format json`."""
    where = SchemeFilter(rag, status, programme, funding_source, project_manager, q)
    board = schemes.board(container, principal, shown, where)
    return ExactJSONResponse(
        {
            **_position_json(board.position),
            "count": len(board.rows),
            "data": board.rows,
        }
    )


@router.get("/api/schemes/{scheme_id}", responses={404: {"description": "No such scheme."}})
def get_scheme(
    scheme_id: Annotated[str, Path(max_length=64, description="e.g. CYPE-018")],
    container: ContainerDep,
    principal: CurrentPrincipal,
    shown: ShownPosition,
) -> ExactJSONResponse:
    """One scheme: its state, RAG with the reasons, and its history up to the position."""
    record = schemes.scheme_record(container, principal, scheme_id, shown)
    return ExactJSONResponse(
        {
            **_position_json(record.position),
            "scheme": record.scheme,
            "history": record.history,
        }
    )


_REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {media: {} for media in reporting.MEDIA_TYPES.values()},
        "description": "The report in the format asked for.",
    }
}
Public = Annotated[bool, Query(description="Leave out schemes of high public sensitivity.")]


# Declared before /api/reports/{kind}, which would otherwise take "changes" as a kind.
@router.get("/api/reports/changes", responses=_REPORT_RESPONSES)
async def get_changes(
    container: ContainerDep,
    principal: CurrentPrincipal,
    since: Annotated[
        dt.date,
        Query(alias="from", description="Changes recorded after the end of this date."),
    ],
    until: Annotated[
        dt.date | None,
        Query(alias="to", description="... up to the end of this date; today if not given."),
    ] = None,
    format: Format = Format.json,
    public: Public = False,
) -> Response:
    """What was recorded between two dates, scheme by scheme (`capital report changes`),
    as JSON, CSV, HTML or PDF."""
    try:
        rendered = await run_in_threadpool(
            reporting.rendered_changes, container, principal, format, since, until, public
        )
    except PdfUnavailable as error:
        raise HTTPException(503, f"the changes report cannot be made: {error}") from None
    return _download(rendered)


@router.get("/api/reports/{kind}", responses=_REPORT_RESPONSES)
async def get_report(
    kind: ReportKind,
    container: ContainerDep,
    principal: CurrentPrincipal,
    shown: ShownPosition,
    format: Format = Format.json,
    public: Public = False,
    since: Annotated[
        dt.date | None,
        Query(description="The pack only: the last committee's date, for a page of changes."),
    ] = None,
) -> Response:
    """Budget by funding source, programme, slippage, or the committee pack, as JSON, CSV,
    XLSX, HTML or PDF (which formats each report comes in: 422 says)."""
    try:
        rendered = await run_in_threadpool(
            reporting.rendered_report, container, principal, kind, format, shown, public, since
        )
    except (ReconciliationError, PdfUnavailable) as error:
        raise HTTPException(503, f"the {kind.value} report cannot be made: {error}") from None
    return _download(rendered)


def _download(rendered: reporting.RenderedReport) -> Response:
    """JSON and HTML open in the browser; the other formats are saved."""
    inline = rendered.format in (Format.json, Format.html)
    disposition = "inline" if inline else "attachment"
    return Response(
        rendered.content,
        media_type=rendered.media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{rendered.filename}"'},
    )


def _position_json(shown: Position) -> dict[str, object]:
    """Which position a response shows: in words, and its dates (None: now)."""
    return {
        "position": shown.describe(),
        "as_at": shown.as_at,
        "known_on": shown.known_on,
        "judged_on": shown.judged_on,
    }
