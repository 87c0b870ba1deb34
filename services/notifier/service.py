"""The notifier as the application shell sees it: the consumer, the outbox, the sweep and
the subscriptions and alerts people manage from the command line, built from adapters
chosen by the composition root."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, func, select

from programme.rag import RagPolicy
from projection.database import SessionFactory, transaction
from services.notifier.delivery import Notifier
from services.notifier.handlers import StateChangeNotifier
from services.notifier.outbox import RETRYABLE, OutboxDispatcher
from services.notifier.settings import NotifierSettings
from services.notifier.store import (
    Alert,
    AlertDelivery,
    AlertFilter,
    AlertWithDeliveries,
    DeliveryStatus,
    Subscriber,
    active_recipients,
    find_alerts,
    find_subscriber,
    list_alerts,
    remove_subscriber,
    save_subscriber,
)
from services.notifier.subscriptions import (
    Channel,
    Recipient,
    email_address,
    fingerprints_of,
    masked,
    merge,
    webhook_recipient,
)
from services.notifier.sweep import DailySweep
from services.notifier.vault import AddressVault


class NotFound(LookupError):
    """Nothing (or more than one thing) answers to what the person typed."""


@dataclass(frozen=True)
class Acknowledged:
    alert: Alert
    now: bool  # False when someone had acknowledged it already


@dataclass(frozen=True)
class Retried:
    requeued: int
    refused: dict[int, str]  # delivery id: why it was not sent again


class NotifierService:
    def __init__(
        self,
        sessions: SessionFactory,
        settings: NotifierSettings,
        rag: RagPolicy,
        notifiers: Mapping[str, Notifier],
        now: Callable[[], dt.datetime],
        worker: str | None = None,
        vault: AddressVault | None = None,
    ) -> None:
        """Without a vault (no secret key) webhooks from the settings work and a webhook
        subscription is refused: its URL could not be kept secret."""
        self.settings = settings
        self._sessions = sessions
        self._now = now
        self._vault = vault or AddressVault(None, settings.configured_webhook_urls())
        self._configured = settings.configured_recipients(self._vault)
        self._notifiers = notifiers
        self.state_changes = StateChangeNotifier(
            sessions, self.recipients, now, rag, settings.late_after_days
        )
        self.outbox = OutboxDispatcher(sessions, notifiers, settings.retry, now, worker)
        self.sweep = DailySweep(
            sessions,
            rag,
            self.recipients,
            now,
            lease=dt.timedelta(seconds=settings.sweep.run_lease_s),
            worker=worker,
        )

    def close(self) -> None:
        for notifier in self._notifiers.values():
            close = getattr(notifier, "close", None)
            if close is not None:
                close()

    def recipients(self, session: Session) -> list[Recipient]:
        return merge(active_recipients(session), self._configured)

    # Subscriptions --------------------------------------------------------------------

    def subscribers(self) -> list[Recipient]:
        with self._sessions() as session:
            return self.recipients(session)

    def recipient(self, channel: Channel, address: str, **fields: Any) -> Recipient:
        """A subscription as a person typed it, its webhook URL sealed. ValueError for a bad
        address, or a webhook when the deployment has no secret key."""
        if channel == "webhook":
            return webhook_recipient(address, self._vault, from_settings=False, **fields)
        return Recipient(channel="email", address=email_address(address), **fields)

    def subscribe(self, recipient: Recipient, actor: str) -> Recipient:
        with transaction(self._sessions) as session:
            return save_subscriber(session, recipient, actor, self._now()).recipient()

    def unsubscribe(self, id_or_address: str, actor: str) -> tuple[Subscriber, int]:
        """Returns the subscription removed and how many queued deliveries were cancelled."""
        typed = id_or_address.strip()
        fingerprints = fingerprints_of(typed, self._vault)
        with transaction(self._sessions) as session:
            number = int(typed) if typed.isdigit() else None
            row = find_subscriber(session, number, fingerprints)
            if row is None:
                configured = any(r.key_hash in fingerprints for r in self._configured)
                # A webhook URL typed back may carry its token and credentials: mask it.
                shown = (
                    masked("webhook", id_or_address) if "://" in id_or_address else id_or_address
                )
                problem = f"no subscription {shown!r} made with the CLI"
                if configured:
                    problem += (
                        ": it comes from the settings (CAPITAL_NOTIFIER__SUBSCRIBERS or "
                        "CAPITAL_NOTIFIER__WEBHOOK__URLS); remove it there"
                    )
                raise NotFound(problem)
            return row, remove_subscriber(session, row, actor, self._now())

    # Alerts ---------------------------------------------------------------------------

    def alerts(self, wanted: AlertFilter | None = None) -> list[AlertWithDeliveries]:
        with self._sessions() as session:
            return list_alerts(session, wanted)

    def acknowledge(self, id_or_prefix: str, actor: str) -> Acknowledged:
        (done,) = self.acknowledge_all([id_or_prefix], None, actor)
        return done

    def acknowledge_all(
        self, ids_or_prefixes: Sequence[str], wanted: AlertFilter | None, actor: str
    ) -> list[Acknowledged]:
        """Acknowledge the alerts named (by id or a unique prefix) and those `wanted`
        picks, in one transaction: an id that names no alert, or several, acknowledges
        nothing. Alerts acknowledged already are reported, not changed."""
        with transaction(self._sessions) as session:
            chosen: dict[str, Alert] = {}
            for id_or_prefix in ids_or_prefixes:
                found = find_alerts(session, id_or_prefix)
                if len(found) != 1:
                    problem = "no alert" if not found else "more than one alert"
                    raise NotFound(f"{problem} with id {id_or_prefix!r}")
                chosen.setdefault(found[0].alert_id, found[0])
            if wanted is not None:
                for alert in session.exec(wanted.query()):
                    chosen.setdefault(alert.alert_id, alert)
            done = []
            now = self._now()
            for alert in chosen.values():
                if alert.acknowledged_at is not None:
                    done.append(Acknowledged(alert, now=False))
                    continue
                alert.acknowledged_at = now
                alert.acknowledged_by = actor
                session.add(alert)
                done.append(Acknowledged(alert, now=True))
            return done

    def delivery_counts(self) -> dict[str, int]:
        with self._sessions() as session:
            rows = session.exec(
                select(AlertDelivery.status, func.count()).group_by(col(AlertDelivery.status))
            )
            return {status: count for status, count in rows}

    def deliveries(self, status: str | None = None, limit: int = 100) -> list[AlertDelivery]:
        with self._sessions() as session:
            query = select(AlertDelivery).order_by(col(AlertDelivery.id).desc()).limit(limit)
            if status is not None:
                query = query.where(AlertDelivery.status == status)
            return list(session.exec(query))

    def retry(self, ids: list[int], actor: str) -> Retried:
        """Send deliveries again, as `actor` asks (`capital outbox retry`). Every id must
        exist (NotFound otherwise, before anything changes). Only failed and unknown
        deliveries to a current recipient go back to the queue; the others are refused
        with the reason: sending to someone who unsubscribed is never a retry."""
        wanted = list(dict.fromkeys(ids))
        with self._sessions() as session:
            rows: dict[int, AlertDelivery] = {}
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                query = select(AlertDelivery).where(col(AlertDelivery.id).in_(chunk))
                rows.update({row.id: row for row in session.exec(query) if row.id is not None})
            missing = [i for i in wanted if i not in rows]
            if missing:
                raise NotFound(f"no delivery {', '.join(map(str, missing))}")
            current = {recipient.key_hash for recipient in self.recipients(session)}
        refused = {
            row_id: why
            for row_id in wanted
            if (why := _not_retryable(rows[row_id], current)) is not None
        }
        requeued = self.outbox.requeue([i for i in wanted if i not in refused], actor)
        return Retried(requeued, refused)


def _not_retryable(row: AlertDelivery, current_recipients: set[str]) -> str | None:
    if row.status == DeliveryStatus.cancelled:
        return (
            f"it was cancelled ({row.last_error or 'its recipient unsubscribed'}); "
            "cancelled deliveries are not sent again"
        )
    if row.status not in RETRYABLE:
        return f"it is {row.status}; only failed or unknown deliveries are sent again"
    if row.recipient_hash not in current_recipients:
        return f"{row.address} is no longer subscribed"
    return None
