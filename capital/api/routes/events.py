"""POST /api/events: one envelope or a list, validated like `capital publish`."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from capital.api.security import ContainerDep, CurrentPrincipal
from capital.application.publishing import NotPermitted, publish_batch
from events import Envelope

router = APIRouter(tags=["events"])

_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    {"$ref": "#/components/schemas/Envelope"},
                    {"type": "array", "items": {"$ref": "#/components/schemas/Envelope"}},
                ]
            }
        }
    },
}


@router.post(
    "/api/events",
    openapi_extra={"requestBody": _BODY},
    responses={
        200: {"description": "Every event was recorded (or was already)."},
        202: {"description": "Sent; the tracker had not applied all of them yet (Kafka)."},
        422: {"description": "Invalid or refused events, each named by item and field."},
    },
)
async def post_events(
    request: Request,
    container: ContainerDep,
    principal: CurrentPrincipal,
    again: bool = False,
) -> JSONResponse:
    """Record scheme events. The actor is the signed-in user; only an administrator may
    name another actor, and that is recorded as such. A batch with an invalid envelope, or
    one the user may not record, publishes nothing. A change identical to one the same
    user recorded minutes before is refused unless `again=true` confirms it."""
    raw = await request.body()
    try:
        # Amounts are read straight to Decimal, never through a float (docs/events.md).
        document: Any = json.loads(raw, parse_float=Decimal)
    except (ValueError, RecursionError) as error:
        raise HTTPException(422, f"the body is not JSON: {error}") from None
    documents = document if isinstance(document, list) else [document]
    if not documents:
        raise HTTPException(422, "no events: send an envelope or a list of envelopes")
    wait = container.settings.web.publish_wait_seconds
    try:
        outcome = await run_in_threadpool(
            publish_batch, container, principal, documents, wait, again=again
        )
    except NotPermitted as error:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(error)) from None
    if outcome.invalid:
        return JSONResponse(
            {"detail": [{"item": e.line, "reason": e.reason} for e in outcome.invalid]},
            status_code=422,
        )
    assert outcome.report is not None
    report = outcome.report
    body = {
        "published": [
            {"event_id": str(e.event_id), "type": e.type.value, "scheme_id": e.scheme_id}
            for e in report.published
        ],
        "refused": [{"item": e.line, "reason": e.reason} for e in report.errors],
        "pending": report.pending,
    }
    code = 422 if report.errors else 202 if report.pending else 200
    return JSONResponse(body, status_code=code)


def add_envelope_schema(openapi: dict[str, Any]) -> None:
    """Put the envelope's JSON Schema (and the payloads it names) among the document's
    components, where the request body above refers to it."""
    envelope = Envelope.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(envelope.pop("$defs", {}))
    schemas["Envelope"] = envelope
