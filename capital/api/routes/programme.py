"""The programme: the board, one scheme, and the reports."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response
from fastapi.concurrency import run_in_threadpool

from capital.api.security import ContainerDep, CurrentPrincipal
from capital.application import reporting, schemes
from capital.application.reporting import (
    Format,
    PdfUnavailable,
    ReconciliationError,
    ReportKind,
    UnsupportedFormat,
)
from events import Rag, SchemeStatus

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
) -> dict[str, Any]:
    """The programme board: every scheme with dates, slippage and RAG, filtered. Rows are
    the rows of `capital schemes --format json`."""
    where = schemes.BoardFilter(rag, status, programme, funding_source, project_manager, q)
    shown = schemes.board(container, principal, as_of, where, today)
    return {
        "position": shown.position.describe(),
        "count": len(shown.rows),
        "data": shown.rows,
    }


@router.get("/api/schemes/{scheme_id}", responses={404: {"description": "No such scheme."}})
def get_scheme(
    scheme_id: Annotated[str, Path(max_length=64, description="e.g. CYPE-018")],
    container: ContainerDep,
    principal: CurrentPrincipal,
    as_of: AsOf = None,
    today: Today = None,
) -> dict[str, Any]:
    """One scheme: its state, RAG with the reasons, and its full history."""
    record = schemes.scheme_record(container, principal, scheme_id, as_of, today)
    return {
        "position": record.position.describe(),
        "scheme": record.scheme,
        "history": record.history,
    }


@router.get(
    "/api/reports/{kind}",
    responses={
        200: {
            "content": {media: {} for media in reporting.MEDIA_TYPES.values()},
            "description": "The report in the format asked for.",
        }
    },
)
async def get_report(
    kind: ReportKind,
    container: ContainerDep,
    principal: CurrentPrincipal,
    format: Format = Format.json,
    as_of: AsOf = None,
    today: Today = None,
    public: Annotated[
        bool, Query(description="Leave out schemes of high public sensitivity.")
    ] = False,
) -> Response:
    """Budget by funding source, programme, slippage, or the committee pack, as JSON, CSV,
    XLSX, HTML or PDF (which formats each report comes in: 422 says)."""
    try:
        rendered = await run_in_threadpool(
            reporting.rendered_report, container, principal, kind, format, as_of, public, today
        )
    except UnsupportedFormat as error:
        raise HTTPException(422, str(error)) from None
    except (ReconciliationError, PdfUnavailable) as error:
        raise HTTPException(503, f"the {kind.value} report cannot be made: {error}") from None
    disposition = "inline" if format in (Format.json, Format.html) else "attachment"
    return Response(
        rendered.content,
        media_type=rendered.media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{rendered.filename}"'},
    )
