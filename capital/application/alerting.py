"""Alerts and who receives them: list, acknowledge, subscribe, unsubscribe.

Rows are built here once, for the command line's `--format json` and the HTTP API alike.
Webhook URLs carry their tokens: they are stored encrypted and only ever shown masked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from capital.application.errors import InvalidInput
from capital.application.principal import Operation, Principal, require
from capital.bootstrap import Container
from events import Severity
from projection.views import known_scheme_ids
from services.notifier.outbox import DispatchReport
from services.notifier.service import Acknowledged, NotFound, Retried
from services.notifier.store import (
    AlertDelivery,
    AlertFilter,
    AlertWithDeliveries,
    DeliveryStatus,
)
from services.notifier.subscriptions import Channel, Recipient, role_name
from services.notifier.sweep import SweepReport

__all__ = ["Acknowledged", "NotFound"]


@dataclass(frozen=True)
class AlertQuery:
    """Which alerts a reader asked for, as they put it: `since` is a local day."""

    scheme_id: str | None = None
    since: dt.date | None = None
    unacknowledged: bool = False

    def filter(self, timezone: str) -> AlertFilter:
        # A date means the local day people think in, from its first moment.
        zone = ZoneInfo(timezone)
        since = dt.datetime.combine(self.since, dt.time(), zone) if self.since else None
        return AlertFilter(self.scheme_id, since, self.unacknowledged)


@dataclass(frozen=True)
class Subscribed:
    recipient: Recipient
    unknown_schemes: list[str]


def alerts(
    container: Container, principal: Principal, query: AlertQuery | None = None
) -> list[dict[str, Any]]:
    """Alerts, newest first, with their delivery status."""
    require(principal, Operation.view_alerts)
    wanted = (query or AlertQuery()).filter(container.settings.timezone)
    return [alert_row(item) for item in container.notifier.alerts(wanted)]


def acknowledge(
    container: Container,
    principal: Principal,
    alert_ids: Iterable[str],
    query: AlertQuery | None = None,
) -> list[Acknowledged]:
    """Acknowledge the alerts named (by id or a unique prefix) and those `query` picks, all
    or none: NotFound when an id names no alert, or several. Seen, being dealt with."""
    require(principal, Operation.acknowledge_alerts)
    wanted = query.filter(container.settings.timezone) if query else None
    return container.notifier.acknowledge_all(list(alert_ids), wanted, principal.attribution)


def subscribers(container: Container, principal: Principal) -> list[dict[str, Any]]:
    """Every subscriber, from the command line and from settings (webhooks masked)."""
    require(principal, Operation.manage_subscribers)
    return [subscriber_row(r) for r in container.notifier.subscribers()]


def subscribe(
    container: Container,
    principal: Principal,
    channel: Channel,
    address: str,
    role: str,
    severity: Severity,
    schemes: Iterable[str] = (),
    digest: bool = True,
) -> Subscribed:
    """Subscribe a person by email or a channel by webhook. InvalidInput names a bad
    address or role, or a webhook the deployment has no secret key to keep the URL with."""
    require(principal, Operation.manage_subscribers)
    role = _valid("role", role_name, role)
    try:
        recipient = container.notifier.recipient(
            channel,
            address,
            role=role,
            min_severity=severity,
            schemes=frozenset(s.strip() for s in schemes),
            digest=digest,
        )
    except ValueError as error:
        raise InvalidInput("address", str(error)) from None
    with container.sessions() as session:
        unknown = sorted(recipient.schemes - known_scheme_ids(session))
    saved = container.notifier.subscribe(recipient, principal.attribution)
    return Subscribed(saved, unknown)


def unsubscribe(
    container: Container, principal: Principal, id_or_address: str
) -> tuple[str, int, int]:
    """Unsubscribe: nothing more is sent, queued deliveries included. Returns the masked
    address, the subscription id and how many queued deliveries were cancelled."""
    require(principal, Operation.manage_subscribers)
    row, cancelled = container.notifier.unsubscribe(id_or_address, principal.attribution)
    return row.address, row.id or 0, cancelled


def _valid(field: str, check: Callable[[str], str], text: str) -> str:
    try:
        return check(text)
    except ValueError as error:
        raise InvalidInput(field, str(error)) from None


def alert_row(item: AlertWithDeliveries) -> dict[str, Any]:
    alert = item.alert
    message = alert.message_model()
    return {
        "alert_id": alert.alert_id,
        "scheme_id": alert.scheme_id,
        "kind": alert.kind,
        "severity": alert.severity,
        "subject": alert.subject,
        "message": alert.message,
        "raised_at": alert.raised_at,
        "delivery_status": item.delivery_status,
        "acknowledged": alert.acknowledged_at is not None,
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": alert.acknowledged_at,
        "cause_event_id": alert.cause_event_id,
        "actor": alert.actor,
        "dedup_key": alert.dedup_key,
        "details": message.details,
        "deliveries": [delivery_row(d) for d in item.deliveries],
    }


def delivery_row(delivery: AlertDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "kind": delivery.kind,
        "alert_id": delivery.alert_id,
        "channel": delivery.channel,
        "recipient": delivery.address,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at
        if delivery.status == DeliveryStatus.pending
        else None,
        "sent_at": delivery.sent_at,
        "last_error": delivery.last_error,
    }


def subscriber_row(r: Recipient) -> dict[str, Any]:
    return {
        "id": r.subscriber_id,
        "channel": r.channel,
        "address": r.shown_address,
        "role": r.role,
        "severity": r.min_severity,
        "schemes": ", ".join(sorted(r.schemes)) or "all",
        "digest": r.digest,
        "source": r.source,
    }


class FutureSweep(ValueError):
    """A sweep claims its date once: one run early would block the real one."""


@dataclass(frozen=True)
class OutboxState:
    dispatched: DispatchReport | None
    counts: dict[str, int]


def sweep(
    container: Container, principal: Principal, day: dt.date, again: bool = False
) -> tuple[SweepReport, dict[str, int]]:
    """The daily sweep for `day`, once: overdue alerts, then digests, then send what is
    due. Returns the report and the outbox's counts by status."""
    require(principal, Operation.run_sweep)
    refuse_future_sweep(container, day, "sweep")
    with container.notifier.sweep.run_by(principal.attribution):
        report = container.run_daily_sweep(day, again=again)
    return report, container.notifier.delivery_counts()


def refuse_future_sweep(container: Container, day: dt.date, what: str) -> None:
    """A fixed clock (`CAPITAL_TODAY`) may go back in time, never forward."""
    real = container.settings.calendar_date()
    if day > real:
        raise FutureSweep(
            f"cannot {what} for {day}: it is after today ({real}); a date is swept on or "
            "after the day, and sweeping it early would claim it and block the real sweep"
        )


def dispatch(container: Container, principal: Principal) -> OutboxState:
    """Send every delivery that is due now (what the scheduler does every few seconds)."""
    require(principal, Operation.operate_outbox)
    report = container.notifier.outbox.dispatch_due()
    return OutboxState(report, container.notifier.delivery_counts())


def deliveries(
    container: Container, principal: Principal, status: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Deliveries, newest first, with attempts and last error (recipients masked)."""
    require(principal, Operation.view_alerts)
    return [delivery_row(d) for d in container.notifier.deliveries(status, limit)]


def retry(
    container: Container, principal: Principal, ids: Iterable[int], statuses: Iterable[str] = ()
) -> tuple[Retried, OutboxState]:
    """Queue failed or unknown deliveries again, by id or by status, and send them now.
    Cancelled deliveries and recipients no longer subscribed are never sent again."""
    require(principal, Operation.operate_outbox)
    chosen = list(ids)
    for status in statuses:
        chosen += [d.id for d in container.notifier.deliveries(status, 10_000) if d.id]
    retried = container.notifier.retry(chosen, principal.attribution)
    report = container.notifier.outbox.dispatch_due()
    return retried, OutboxState(report, container.notifier.delivery_counts())
