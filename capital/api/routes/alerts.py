"""Alerts and subscribers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from capital.api.security import ContainerDep, CurrentPrincipal
from capital.application import alerting
from events import Severity

router = APIRouter(tags=["alerts"])


class AcknowledgeMany(BaseModel):
    alert_ids: list[Annotated[str, Field(min_length=4, max_length=64)]] = Field(
        min_length=1, max_length=1000
    )


class NewSubscriber(BaseModel):
    channel: Literal["email", "webhook"]
    address: str = Field(max_length=2000, description="An email address or a webhook URL.")
    role: str = Field("head_of_capital", max_length=64)
    severity: Severity = Severity.warning
    schemes: list[Annotated[str, Field(max_length=64)]] = Field(default=[], max_length=500)
    digest: bool = True


@router.get("/api/alerts")
def list_alerts(
    container: ContainerDep,
    principal: CurrentPrincipal,
    unacknowledged: bool = False,
    scheme_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[dt.date | None, Query(description="Raised on or after this date.")] = None,
) -> dict[str, Any]:
    """Alerts, newest first, with their delivery status (rows of `capital alerts`)."""
    where = alerting.AlertFilter(scheme_id, since, unacknowledged)
    rows = alerting.alerts(container, principal, where)
    return {"count": len(rows), "data": rows}


@router.post("/api/alerts/{alert_id}/ack", responses={404: {"description": "No such alert."}})
def acknowledge_alert(
    alert_id: Annotated[str, Path(min_length=4, max_length=64)],
    container: ContainerDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Acknowledge one alert: seen, and being dealt with."""
    result = alerting.acknowledge(container, principal, [alert_id])
    if result.not_found:
        raise HTTPException(404, f"no alert, or more than one, with id {alert_id!r}")
    return _acknowledged(result)


@router.post("/api/alerts/ack")
def acknowledge_alerts(
    body: AcknowledgeMany, container: ContainerDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Acknowledge several alerts; ids not found are listed, the rest acknowledged."""
    return _acknowledged(alerting.acknowledge(container, principal, body.alert_ids))


@router.get("/api/subscribers")
def list_subscribers(container: ContainerDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Who receives alerts (webhook URLs masked: they are secret)."""
    rows = alerting.subscribers(container, principal)
    return {"count": len(rows), "data": rows}


@router.post("/api/subscribers", status_code=201)
def add_subscriber(
    body: NewSubscriber, container: ContainerDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Subscribe a person by email or a channel by webhook."""
    try:
        saved = alerting.subscribe(
            container,
            principal,
            body.channel,
            body.address,
            body.role,
            body.severity,
            body.schemes,
            body.digest,
        )
    except ValueError as error:
        raise HTTPException(422, str(error)) from None
    return {
        "subscriber": alerting.subscriber_row(saved.recipient),
        "unknown_schemes": saved.unknown_schemes,
    }


@router.delete("/api/subscribers/{subscriber}", responses={404: {"description": "Not found."}})
def remove_subscriber(
    subscriber: Annotated[str, Path(max_length=2000, description="Its id or address.")],
    container: ContainerDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Unsubscribe: nothing more is sent, queued deliveries included."""
    try:
        shown, number, cancelled = alerting.unsubscribe(container, principal, subscriber)
    except alerting.NotFound as error:
        raise HTTPException(404, str(error)) from None
    return {"removed": shown, "id": number, "cancelled_deliveries": cancelled}


def _acknowledged(result: alerting.Acknowledgements) -> dict[str, Any]:
    return {
        "acknowledged": [
            {
                "alert_id": done.alert.alert_id,
                "now": done.now,
                "acknowledged_by": done.alert.acknowledged_by,
                "acknowledged_at": done.alert.acknowledged_at,
            }
            for done in result.done
        ],
        "not_found": result.not_found,
    }
