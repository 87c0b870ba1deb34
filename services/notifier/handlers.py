"""The notifier's consumer: one state change in, its alerts out, exactly once in effect.

`StateChangeNotifier.handle(raw)` is what both transports call with the bytes of a
`SchemeStateChanged`. In one transaction it stores each new alert and queues a delivery
for every subscriber who wants it at once (the outbox), so an alert is never raised
without its deliveries nor delivered without being recorded. An alert already stored
under the same de-duplication key is not raised again; it is handed back with the new
ones so that a redelivered state change re-publishes what a crash may have lost.

It returns plain data; the application shell turns it into messages for the alerts and
dead-letter topics (services never import the shell).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from events import AlertRaised, DecodeError, SchemeStateChanged, decode_as
from projection.database import SessionFactory, transaction
from projection.dead_letters import record_dead_letter
from services.notifier.rules import alerts_for_change
from services.notifier.store import Recorded, record_alerts
from services.notifier.subscriptions import Recipient

log = logging.getLogger(__name__)

RecipientsOf = Callable[[Session], list[Recipient]]


@dataclass(frozen=True)
class Raised:
    new: list[AlertRaised]
    already_raised: list[AlertRaised]

    @property
    def alerts(self) -> list[AlertRaised]:
        return [*self.new, *self.already_raised]


@dataclass(frozen=True)
class Refused:
    reason: str
    raw: bytes


def record_once(
    sessions: SessionFactory,
    alerts: list[AlertRaised],
    recipients: RecipientsOf,
    now: dt.datetime,
) -> Recorded:
    """Record alerts and their deliveries in one transaction. Two replicas recording the
    same alert at the same moment meet on the unique key: the loser rolls back and, on its
    second pass, finds the alert already raised."""
    for attempt in (1, 2):
        try:
            with transaction(sessions) as session:
                return record_alerts(session, alerts, recipients(session), now)
        except IntegrityError:
            if attempt == 2:
                raise
            log.info("alerts recorded concurrently by another worker; checking again")
    raise AssertionError("unreachable")


class StateChangeNotifier:
    def __init__(
        self,
        sessions: SessionFactory,
        recipients: RecipientsOf,
        now: Callable[[], dt.datetime],
    ) -> None:
        self._sessions = sessions
        self._recipients = recipients
        self._now = now

    def handle(self, raw: bytes, source: str) -> Raised | Refused:
        try:
            change = decode_as(SchemeStateChanged, raw)
        except DecodeError as error:
            return self._refuse(Refused(error.reason, raw), source)
        now = self._now()
        alerts = alerts_for_change(change, now)
        if not alerts:
            return Raised([], [])
        recorded = record_once(self._sessions, alerts, self._recipients, now)
        for alert in recorded.new:
            log.info("raised %s alert %s: %s", alert.severity.value, alert.alert_id, alert.subject)
        return Raised(recorded.new, recorded.existing)

    def _refuse(self, refused: Refused, source: str) -> Refused:
        log.warning("refused state change from %s: %s", source, refused.reason)
        with transaction(self._sessions) as session:
            record_dead_letter(
                session, source=source, reason=refused.reason, raw=refused.raw, at=self._now()
            )
        return refused
