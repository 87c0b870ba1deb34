"""The notifier's consumer: state changes in, their alerts out, exactly once in effect.

`StateChangeNotifier.handle_batch(raws)` is what both transports call with the bytes of
`SchemeStateChanged` messages, in order (`handle(raw)` is a batch of one). In one
transaction, for each change in turn, it stores each new alert and queues a delivery
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

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
T = TypeVar("T")


@dataclass(frozen=True)
class Raised:
    new: list[AlertRaised]
    already_raised: list[AlertRaised]
    held: list[AlertRaised] = field(default_factory=list)
    superseded: list[AlertRaised] = field(default_factory=list)
    superseded_by: str | None = None  # the id of the event whose change superseded them

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
) -> Recorded:
    """Record alerts and their deliveries (none for `held` ones) in one transaction."""
    return in_one_transaction(
        sessions, lambda session: record_alerts(session, alerts, recipients(session), now, held)
    )


def in_one_transaction(sessions: SessionFactory, work: Callable[[Session], T]) -> T:
    """`work` in one transaction. Two replicas recording the same alert at the same moment
    meet on the unique key: the loser rolls back and, on its second pass, finds the alert
    already raised."""
    for attempt in (1, 2):
        try:
            with transaction(sessions) as session:
                return work(session)
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
        return self.handle_batch([raw], source)[0]

    def handle_batch(self, raws: Sequence[bytes], source: str) -> list[Raised | Refused]:
        """Each state change in order, all in one transaction; one outcome per message.

        A batch that fails is rolled back whole and handled again one message at a time,
        so a message that cannot be handled holds up only itself, and nothing is raised
        twice or lost."""
        received = [self._decoded(raw) for raw in raws]
        try:
            outcomes = in_one_transaction(
                self._sessions, lambda session: self._settle_all(session, received, source)
            )
        except Exception:
            if len(raws) == 1:
                raise
            log.exception("a batch of %d state changes failed; handling each alone", len(raws))
            return [self.handle(raw, source) for raw in raws]
        for outcome in outcomes:
            _log_outcome(outcome, source)
        return outcomes

    def _decoded(self, raw: bytes) -> SchemeStateChanged | Refused:
        try:
            return decode_as(SchemeStateChanged, raw)
        except DecodeError as error:
            return Refused(error.reason, raw)

    def _settle_all(
        self,
        session: Session,
        received: list[SchemeStateChanged | Refused],
        source: str,
    ) -> list[Raised | Refused]:
        recipients = self._recipients(session)
        outcomes: list[Raised | Refused] = []
        for item in received:
            # The clock read for each, as when one at a time: alerts list in the order raised.
            now = self._now()
            if isinstance(item, Refused):
                record_dead_letter(session, source=source, reason=item.reason, raw=item.raw, at=now)
                outcomes.append(item)
            else:
                outcomes.append(self._settle(session, item, recipients, now))
        return outcomes

    def _settle(
        self,
        session: Session,
        change: SchemeStateChanged,
        recipients: list[Recipient],
        now: dt.datetime,
    ) -> Raised:
        """Mark superseded the held alerts this change no longer bears out, then record its
        own. The session flushes before each query, so a later change in the same batch
        sees what an earlier one added: the same as one transaction each."""
        moved_on = supersede_held(
            session,
            change.scheme_id,
            str(change.cause.event_id),
            lambda alert: superseded(alert, change.current),
        )
        late = arrived_late(change.cause, now.date(), self._late_after_days)
        alerts = alerts_for_change(change, now, self._policy)
        recorded = record_alerts(session, alerts, recipients, now, late)
        return Raised(
            recorded.new, recorded.existing, recorded.held, moved_on, str(change.cause.event_id)
        )


def _log_outcome(outcome: Raised | Refused, source: str) -> None:
    if isinstance(outcome, Refused):
        log.warning("refused state change from %s: %s", source, outcome.reason)
        return
    for alert in outcome.new:
        log.info("raised %s alert %s: %s", alert.severity.value, alert.alert_id, alert.subject)
    for alert in outcome.held:
        log.info("held %s for the digest (late news): %s", alert.alert_id, alert.subject)
    for alert in outcome.superseded:
        log.info("%s superseded by event %s", alert.alert_id, outcome.superseded_by)
