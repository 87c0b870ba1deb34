"""The notifier's consumer: one state change in, its alerts out, exactly once in effect.

`StateChangeNotifier.handle(raw)` is what both transports call with the bytes of a
`SchemeStateChanged`. In one transaction it stores each new alert and queues a delivery
for every subscriber who wants it at once (the outbox), so an alert is never raised
without its deliveries nor delivered without being recorded. News that arrives late
(`rules.arrived_late`) is held for the next digest instead, and the same transaction marks
superseded the held alerts of that scheme this change no longer bears out (`rules.superseded`):
a backlog raises nothing for a state a later event in it moved on from. Each scheme's state
changes arrive in order (they are keyed by scheme), so what is held or superseded does not
depend on how schemes interleave, nor on when the digest is built. An alert already stored
under the same de-duplication key is not raised again; it is handed back with the new
ones so that a redelivered state change re-publishes what a crash may have lost.

It returns plain data; the application shell turns it into messages for the alerts and
dead-letter topics (services never import the shell).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from events import AlertRaised, DecodeError, SchemeStateChanged, decode_as
from programme.rag import RagPolicy
from projection.database import SessionFactory, transaction
from projection.dead_letters import record_dead_letter
from services.notifier.rules import alerts_for_change, arrived_late, superseded
from services.notifier.store import Recorded, record_alerts, supersede_held
from services.notifier.subscriptions import Recipient

log = logging.getLogger(__name__)

RecipientsOf = Callable[[Session], list[Recipient]]


@dataclass(frozen=True)
class Raised:
    new: list[AlertRaised]
    already_raised: list[AlertRaised]
    held: list[AlertRaised] = field(default_factory=list)
    superseded: list[AlertRaised] = field(default_factory=list)

    @property
    def alerts(self) -> list[AlertRaised]:
        """What to publish: the alerts raised; held ones wait for the digest."""
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
    held: bool = False,
    first: Callable[[Session], object] | None = None,
) -> Recorded:
    """Record alerts and their deliveries (none for `held` ones) in one transaction, after
    `first`'s work in it. Two replicas recording the same alert at the same moment meet on
    the unique key: the loser rolls back and, on its second pass, finds the alert already
    raised."""
    for attempt in (1, 2):
        try:
            with transaction(sessions) as session:
                if first is not None:
                    first(session)
                return record_alerts(session, alerts, recipients(session), now, held)
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
        policy: RagPolicy,
        late_after_days: int,
    ) -> None:
        self._sessions = sessions
        self._recipients = recipients
        self._now = now
        self._policy = policy
        self._late_after_days = late_after_days

    def handle(self, raw: bytes, source: str) -> Raised | Refused:
        try:
            change = decode_as(SchemeStateChanged, raw)
        except DecodeError as error:
            return self._refuse(Refused(error.reason, raw), source)
        now = self._now()
        alerts = alerts_for_change(change, now, self._policy)
        late = arrived_late(change.cause, now.date(), self._late_after_days)
        moved_on: list[AlertRaised] = []

        def settle_held(session: Session) -> None:
            moved_on[:] = supersede_held(
                session,
                change.scheme_id,
                str(change.cause.event_id),
                lambda alert: superseded(alert, change.current),
            )

        recorded = record_once(self._sessions, alerts, self._recipients, now, late, settle_held)
        for alert in recorded.new:
            log.info("raised %s alert %s: %s", alert.severity.value, alert.alert_id, alert.subject)
        for alert in recorded.held:
            log.info("held %s for the digest (late news): %s", alert.alert_id, alert.subject)
        for alert in moved_on:
            log.info("%s superseded by event %s", alert.alert_id, change.cause.event_id)
        return Raised(recorded.new, recorded.existing, recorded.held, moved_on)

    def _refuse(self, refused: Refused, source: str) -> Refused:
        log.warning("refused state change from %s: %s", source, refused.reason)
        with transaction(self._sessions) as session:
            record_dead_letter(
                session, source=source, reason=refused.reason, raw=refused.raw, at=self._now()
            )
        return refused
