"""The programme: the board, one scheme, and the reports."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response
from fastapi.concurrency import run_in_threadpool

from capital.api.responses import ExactJSONResponse
from capital.api.security import ContainerDep, CurrentPrincipal
from capital.application import reporting, schemes
from capital.application.reporting import (
    Format,
    PdfUnavailable,
    ReconciliationError,
    ReportKind,
)
from events import Rag, SchemeStatus
from programme.board import SchemeFilter

router = APIRouter(tags=["programme"])

AsOf = Annotated[
    dt.date | None,
    Query(description="What was known at the end of this date (YYYY-MM-DD)."),
]
Today = Annotated[
    dt.date | None,
    Query(description="Judge RAG as on this date; defaults to as_of, else today."),
]
REPORT_FORMATS = [f for f in Format if f is not Format.table]


@router.get("/api/schemes")
def list_schemes(
    container: ContainerDep,
    principal: CurrentPrincipal,
    rag: Annotated[Rag | None, Query(description="Overall RAG.")] = None,
    status: SchemeStatus | None = None,
    programme: Annotated[str | None, Query(max_length=200)] = None,
    funding_source: Annotated[str | None, Query(max_length=200)] = None,
    project_manager: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in the id or title.")] = None,
    as_of: AsOf = None,
    today: Today = None,
) -> ExactJSONResponse:
    """The programme board: every scheme with dates, slippage and RAG, filtered. Rows are
    the rows of `capital schemes --format json`."""
    where = SchemeFilter(rag, status, programme, funding_source, project_manager, q)
    shown = schemes.board(container, principal, as_of, where, today)
    return ExactJSONResponse(
        {"position": shown.position.describe(), "count": len(shown.rows), "data": shown.rows}
    )


@router.get("/api/schemes/{scheme_id}", responses={404: {"description": "No such scheme."}})
def get_scheme(
    scheme_id: Annotated[str, Path(max_length=64, description="e.g. CYPE-018")],
    container: ContainerDep,
    principal: CurrentPrincipal,
    as_of: AsOf = None,
    today: Today = None,
) -> ExactJSONResponse:
    """One scheme: its state, RAG with the reasons, and its full history."""
    record = schemes.scheme_record(container, principal, scheme_id, as_of, today)
    return ExactJSONResponse(
        {
            "position": record.position.describe(),
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
    format: Format = Format.json,
    as_of: AsOf = None,
    today: Today = None,
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
            reporting.rendered_report,
            container,
            principal,
            kind,
            format,
            as_of,
            public,
            today,
            since,
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
