"""The composition root: the one place that picks adapters for a process."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from capital.keys import deployment_key
from capital.migrations import prepare_schema
from capital.settings import Settings
from capital.transports import Handler, Message, Publisher, dead_letter
from capital.transports.memory import InMemoryBus
from events import AlertRaised, encode, topics
from projection.database import SessionFactory, make_engine, session_factory
from services.notifier import handlers as notifier_handlers
from services.notifier.delivery.email import SmtpNotifier
from services.notifier.delivery.webhook import WebhookNotifier
from services.notifier.outbox import DeliveryLoop, DispatchReport
from services.notifier.service import NotifierService
from services.notifier.sweep import SweepReport
from services.notifier.vault import AddressVault
from services.tracker.handlers import Applied, Duplicate, Outcome, Refused, SchemeTracker

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)

OUTBOX_RECHECK = dt.timedelta(seconds=30)
"""While nothing is known to be due, the longest a process goes between looks at the
outbox: another process may have queued or requeued a delivery meanwhile."""

WORKER_TOPICS: dict[str, tuple[str, ...]] = {
    "tracker": (topics.SCHEME_EVENTS,),
    "notifier": (topics.STATE_CHANGES,),
}


def consumer_groups(settings: Settings) -> dict[str, tuple[str, ...]]:
    """Each worker role's consumer group and the topics (as named on the broker) it reads."""
    return {
        settings.kafka_group(role): tuple(settings.kafka_topic(name) for name in names)
        for role, names in WORKER_TOPICS.items()
    }


@dataclass
class Container:
    settings: Settings
    engine: Engine
    sessions: SessionFactory
    tracker: SchemeTracker
    notifier: NotifierService
    secret_key: str | None = None
    """The deployment's key (see `capital.keys`); None on PostgreSQL without one."""
    routes: dict[str, Handler] = field(default_factory=dict)
    _publisher: Publisher | None = None
    delivery_loop: DeliveryLoop | None = None
    """Set in a long-running notifier: deliveries are sent from their own thread."""
    _next_outbox_look: dt.datetime | None = field(default=None, init=False)

    @property
    def publisher(self) -> Publisher:
        """The bus for this process: built on first use so read-only commands never
        connect to Kafka."""
        if self._publisher is None:
            if self.settings.bus == "kafka":
                from capital.transports.kafka_producer import KafkaPublisher

                self._publisher = KafkaPublisher(
                    self.settings.kafka_bootstrap, self.settings.kafka_topic_prefix
                )
            else:
                self._publisher = InMemoryBus(self.routes)
        return self._publisher

    def close(self) -> None:
        if self.delivery_loop is not None:
            self.delivery_loop.stop(wait_s=self._longest_send_s())
        if self._publisher is not None:
            self._publisher.close()
        self.notifier.close()
        self.engine.dispose()

    def _longest_send_s(self) -> float:
        notifier = self.settings.notifier
        return max(notifier.smtp.timeout_s, notifier.webhook.timeout_s)

    def start_delivery_loop(self) -> DeliveryLoop:
        """Send the outbox from a thread of its own from now on (a notifier worker), so a
        slow or dead relay never holds up the consumer; `close` stops it."""
        if self.delivery_loop is None:
            self.delivery_loop = DeliveryLoop(
                self.dispatch_outbox, self.settings.notifier.sweep.dispatch_interval_s
            )
            self.delivery_loop.start()
        return self.delivery_loop

    def deliveries_queued(self, queued: bool = True) -> None:
        """A state change was recorded, which `queued` deliveries or not: wake the delivery
        loop where one runs; else send what is due now (the embedded bus: `capital
        publish` returns with its alerts out), asking the database only when it may be."""
        if self.delivery_loop is not None:
            if queued:
                self.delivery_loop.wake()
        else:
            self.dispatch_outbox_when_due(queued)

    def dispatch_outbox(self) -> DispatchReport | None:
        """Send the deliveries that are due. A failure here loses nothing (they stay
        queued), so it is logged rather than allowed to fail the caller's work."""
        try:
            return self.notifier.outbox.dispatch_due()
        except Exception:
            log.exception("dispatching the outbox failed; deliveries stay queued")
            return None

    def dispatch_outbox_when_due(self, queued: bool) -> None:
        """Send what is due after a state change, without asking the database after every
        event when nothing is: at once when this change `queued` deliveries, else only
        once a retry (or a stale claim) falls due, or `OUTBOX_RECHECK` has passed."""
        now = self.settings.local_now()  # the outbox keeps the deployment's clock
        if not queued and self._next_outbox_look is not None and now < self._next_outbox_look:
            return
        self.dispatch_outbox()
        try:
            due = self.notifier.outbox.next_due()
        except Exception:
            log.exception("reading when the outbox is next due failed; looking again soon")
            due = None
        self._next_outbox_look = min(due or now + OUTBOX_RECHECK, now + OUTBOX_RECHECK)

    def run_daily_sweep(self, today: dt.date, again: bool = False) -> SweepReport:
        """What the scheduler runs at 07:00: overdue alerts and digests, published to the
        alerts topic and sent."""
        report = self.notifier.sweep.run(today, again=again)
        raised = [*report.raised, *report.released]
        if raised:
            self.publisher.send([alert_message(alert) for alert in raised])
        self.deliveries_queued()
        return report

    def notifier_scheduler(self, blocking: bool = False) -> BaseScheduler:
        """The daily sweep and outbox retries on a clock, not yet started. A long-running
        notifier (the Faust notifier worker, or `capital scheduler`) starts it. Where the
        delivery loop runs, it does the retries."""
        from services.notifier.scheduler import build_scheduler  # APScheduler: only here

        return build_scheduler(
            self.settings.notifier.sweep,
            self.run_daily_sweep,
            self.dispatch_outbox if self.delivery_loop is None else None,
            self.settings.today,
            blocking=blocking,
        )


def bootstrap(settings: Settings, publisher: Publisher | None = None) -> Container:
    secret_key = deployment_key(settings.database_url, settings.secret_key)
    engine = make_engine(settings.database_url)
    prepare_schema(engine, upgrade=settings.upgrade_schema_on_start, secret_key=secret_key)
    sessions = session_factory(engine)
    tracker = SchemeTracker(
        sessions,
        settings.rag,
        today=settings.current_date,
        now=settings.local_now,
        latest_recorded_at=settings.latest_recorded_at,
    )
    vault = AddressVault(secret_key, settings.notifier.configured_webhook_urls())
    notifier = NotifierService(
        sessions,
        settings.notifier,
        settings.rag,
        {
            "email": SmtpNotifier(settings.notifier.smtp, portal_url=settings.web.base_url),
            "webhook": WebhookNotifier(
                settings.notifier.webhook, vault, portal_url=settings.web.base_url
            ),
        },
        # The deployment's clock, so a fixed CAPITAL_TODAY stamps alerts, digests and
        # deliveries on that date too.
        now=settings.local_now,
        vault=vault,
    )
    container = Container(
        settings, engine, sessions, tracker, notifier, secret_key, _publisher=publisher
    )
    container.routes[topics.SCHEME_EVENTS] = track_scheme_events(tracker)
    container.routes[topics.STATE_CHANGES] = notify_on_state_changes(container)
    return container


def track_scheme_events(tracker: SchemeTracker) -> Handler:
    """A batch of events applied in one transaction; then, in the order received, the
    state change of each applied event (or re-emitted for a duplicate) or the dead letter
    of each refused one."""

    def handle(raws: Sequence[bytes]) -> list[Message]:
        outcomes = tracker.handle_batch(raws, source=topics.SCHEME_EVENTS)
        return [
            message
            for raw, outcome in zip(raws, outcomes, strict=True)
            for message in _emitted(raw, outcome)
        ]

    return handle


def _emitted(raw: bytes, outcome: Outcome) -> list[Message]:
    if isinstance(outcome, Applied | Duplicate) and outcome.change is not None:
        change = outcome.change
        return [
            Message(
                topics.STATE_CHANGES,
                change.scheme_id.encode("utf-8"),
                change.model_dump_json().encode("utf-8"),
            )
        ]
    if isinstance(outcome, Refused):
        return [dead_letter(topics.SCHEME_EVENTS, raw, outcome.reason, outcome.event_id)]
    return []


def notify_on_state_changes(container: Container) -> Handler:
    """Alerts for each state change, recorded with their deliveries (a batch in one
    transaction), then sent once the batch is handled: with the in-memory bus they are out
    before `capital publish` returns; a Faust worker hands them to its delivery loop and
    goes on consuming."""

    def handle(raws: Sequence[bytes]) -> list[Message]:
        messages: list[Message] = []
        alerted = False
        outcomes = container.notifier.state_changes.handle_batch(raws, source=topics.STATE_CHANGES)
        for raw, outcome in zip(raws, outcomes, strict=True):
            if isinstance(outcome, notifier_handlers.Refused):
                messages.append(dead_letter(topics.STATE_CHANGES, raw, outcome.reason))
            else:
                alerted = alerted or bool(outcome.alerts)
                messages.extend(alert_message(alert) for alert in outcome.alerts)
        container.deliveries_queued(queued=alerted)
        return messages

    return handle


def alert_message(alert: AlertRaised) -> Message:
    return Message(topics.ALERTS, alert.scheme_id.encode("utf-8"), encode(alert))
