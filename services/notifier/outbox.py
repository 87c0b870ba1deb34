"""Dispatching the outbox: every queued delivery is sent, retried with backoff while it
fails, and marked sent exactly once.

How a delivery is never sent twice: before sending, a dispatcher claims the row in its own
committed transaction (a compare-and-set from `pending` to `sending`, with a token), so
no other dispatcher, thread or replica can take it; only then does it send, and then it
marks the row `sent`. A replayed event adds no row (unique keys), and a `sent` row is
never claimed again.

If a worker dies between claiming and marking, nobody can know whether the message left.
After `claim_timeout_s` such a row's outcome is unknown, and the policy depends on whether
its receiver can drop a duplicate (`Notifier.drops_duplicates`):
- a webhook carries its idempotency key (`Idempotency-Key`, stable per delivery), so it
  goes back to the queue and is sent again; the re-send is recorded as an automatic
  requeue beside the ones people ask for;
- an email is sent again the same way only when the relay checks Message-IDs
  (`smtp.checks_message_id`); otherwise it becomes `unknown`: it is not sent again
  (that could be the duplicate we promise never to send), it shows in `capital alerts`
  and `capital outbox list`, and `capital outbox retry ID` sends it again once a person
  has checked (who asked is recorded).
The window is the time one SMTP or HTTP exchange takes; every other failure (server down,
refused, timeout, 5xx) leaves the row `pending` with `next_attempt_at` pushed back
exponentially, up to `max_attempts`, after which it is `failed` and listed.

`DeliveryLoop` runs the dispatcher in a thread of its own in a long-running worker, so a
slow or dead relay holds up deliveries only, never the consumer that queues them.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import col, select, update

from events import AlertRaised, decode_as
from projection.database import SessionFactory, transaction
from services.notifier.delivery import Content, DeliveryFailed, Notifier, Outgoing
from services.notifier.digest import Digest
from services.notifier.settings import RetryPolicy
from services.notifier.store import AlertDelivery, DeliveryRequeue, DeliveryStatus

log = logging.getLogger(__name__)

UNKNOWN_OUTCOME = (
    "the worker stopped while sending, so it may or may not have arrived; not sent again "
    "automatically: check with the recipient, then `capital outbox retry {id}`"
)
RESENT_OUTCOME = (
    "the worker stopped while sending, so it may or may not have arrived; sent again with "
    "the same delivery key, which its receiver uses to drop a duplicate"
)
# Who `alert_delivery_requeue` names for a re-send the policy made rather than a person.
AUTOMATIC_RESEND = "automatic: the receiver drops duplicates by delivery key"


# What a person may send again. `cancelled` is not: only unsubscribing cancels.
RETRYABLE = frozenset({DeliveryStatus.failed, DeliveryStatus.unknown})


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class DispatchReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    deferred: int = 0
    unknown: int = 0
    resent: int = 0  # outcome unknown, sent again because the receiver drops duplicates

    def add(self, other: DispatchReport) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.deferred += other.deferred
        self.unknown += other.unknown
        self.resent += other.resent


@dataclass(frozen=True)
class Claim:
    id: int
    token: str
    attempts: int
    kind: str
    channel: str
    address: str  # as shown: a webhook's is masked
    sealed_address: str | None
    delivery_key: str
    payload_json: str

    def outgoing(self) -> Outgoing:
        content: Content = (
            decode_as(Digest, self.payload_json)
            if self.kind == "digest"
            else decode_as(AlertRaised, self.payload_json)
        )
        # A webhook's URL goes out sealed: only its sender opens it.
        return Outgoing(self.delivery_key, self.sealed_address or self.address, content)


class OutboxDispatcher:
    def __init__(
        self,
        sessions: SessionFactory,
        notifiers: Mapping[str, Notifier],
        policy: RetryPolicy,
        now: Callable[[], dt.datetime],
        worker: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._notifiers = notifiers
        self._policy = policy
        self._now = now
        self._worker = worker or worker_name()

    def dispatch_due(self) -> DispatchReport:
        """Send everything due now, a batch at a time, until nothing due is left that this
        pass can send (what is deferred or retrying waits for a later pass)."""
        total = DispatchReport()
        total.unknown, total.resent = self.expire_stale_claims()
        while True:
            report = self._pass()
            total.add(report)
            if report.sent + report.retrying + report.failed < self._policy.batch_size:
                return total

    def _pass(self) -> DispatchReport:
        report = DispatchReport()
        down: dict[str, dt.datetime] = {}
        for row_id, channel, recipient in self._due():
            notifier = self._notifiers.get(channel)
            if notifier is None:
                log.error("no notifier for channel %r: delivery %s stays queued", channel, row_id)
                continue
            outage = channel if notifier.shared_endpoint else f"{channel}:{recipient}"
            if outage in down:
                report.deferred += self._defer(row_id, down[outage])
                continue
            claim = self._claim(row_id)
            if claim is None:
                continue  # another dispatcher took it
            retry_at = self._send(notifier, claim, report)
            if retry_at is not None:
                down[outage] = retry_at
        return report

    def _send(self, notifier: Notifier, claim: Claim, report: DispatchReport) -> dt.datetime | None:
        """Send one claimed delivery; the retry time when its endpoint looks down."""
        shown = claim.address
        try:
            notifier.send(claim.outgoing())
        except DeliveryFailed as failure:
            retry_at = self._failed(claim, failure.reason, failure.permanent, report)
            log.warning("delivery %s to %s failed: %s", claim.id, shown, failure.reason)
            return retry_at if failure.endpoint_down else None
        except Exception as error:
            # A bug in an adapter or a template must not stop the other deliveries.
            log.exception("delivery %s to %s raised unexpectedly", claim.id, shown)
            self._failed(claim, f"unexpected error: {error!r}", False, report)
            return None
        self._sent(claim)
        report.sent += 1
        log.info("delivered %s %s to %s", claim.kind, claim.id, shown)
        return None

    def _due(self) -> list[tuple[int, str, str]]:
        """Id, channel and recipient (its fingerprint) of each delivery due."""
        with self._sessions() as session:
            rows = session.exec(
                select(AlertDelivery.id, AlertDelivery.channel, AlertDelivery.recipient_hash)
                .where(
                    AlertDelivery.status == DeliveryStatus.pending,
                    col(AlertDelivery.next_attempt_at) <= self._now(),
                )
                .order_by(col(AlertDelivery.next_attempt_at), col(AlertDelivery.id))
                .limit(self._policy.batch_size)
            ).all()
        return [(row_id, channel, recipient) for row_id, channel, recipient in rows if row_id]

    def _set(self, *where: Any, **values: Any) -> int:
        """One conditional UPDATE in its own transaction; how many rows it changed. Every
        state change of a delivery goes through a condition on its current state, so two
        dispatchers can never both move the same row."""
        with transaction(self._sessions) as session:
            changed = session.exec(update(AlertDelivery).where(*where).values(**values))
            return int(changed.rowcount or 0)

    def _claim(self, row_id: int) -> Claim | None:
        token = f"{self._worker}:{uuid.uuid4().hex[:12]}"
        now = self._now()
        claimed = self._set(
            col(AlertDelivery.id) == row_id,
            col(AlertDelivery.status) == DeliveryStatus.pending,
            col(AlertDelivery.next_attempt_at) <= now,
            status=DeliveryStatus.sending,
            claim_token=token,
            claimed_at=now,
            attempts=col(AlertDelivery.attempts) + 1,
        )
        if claimed != 1:
            return None
        with self._sessions() as session:
            row = session.exec(select(AlertDelivery).where(AlertDelivery.id == row_id)).one()
        return Claim(
            id=row_id,
            token=token,
            attempts=row.attempts,
            kind=row.kind,
            channel=row.channel,
            address=row.address,
            sealed_address=row.sealed_address,
            delivery_key=row.delivery_key,
            payload_json=row.payload_json,
        )

    def _record_outcome(self, *where: Any, **values: Any) -> int:
        """`_set` for what a send just found out: the database being unreachable for a
        while (a restart) must not lose it, or a delivery we know arrived would be left
        `sending` and later taken for one whose outcome is unknown. Tried again until
        the claim would have expired anyway."""
        deadline = time.monotonic() + self._policy.claim_timeout_s
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._set(*where, **values)
            except (OperationalError, InterfaceError) as error:
                delay = min(2.0**attempt, 30.0)
                if time.monotonic() + delay > deadline:
                    raise
                log.error("cannot record a delivery's outcome, retry in %gs: %s", delay, error)
                time.sleep(delay)

    def _sent(self, claim: Claim) -> None:
        self._record_outcome(
            col(AlertDelivery.id) == claim.id,
            col(AlertDelivery.claim_token) == claim.token,
            # `unknown` too: a slow send whose claim expired meanwhile did arrive.
            col(AlertDelivery.status).in_([DeliveryStatus.sending, DeliveryStatus.unknown]),
            status=DeliveryStatus.sent,
            sent_at=self._now(),
        )

    def _failed(
        self, claim: Claim, reason: str, permanent: bool, report: DispatchReport
    ) -> dt.datetime:
        retry_at = self._now() + self._policy.delay_after(claim.attempts)
        if permanent or claim.attempts >= self._policy.max_attempts:
            report.failed += 1
            values: dict[str, Any] = {"status": DeliveryStatus.failed}
        else:
            report.retrying += 1
            values = {"status": DeliveryStatus.pending, "next_attempt_at": retry_at}
        self._record_outcome(
            col(AlertDelivery.id) == claim.id,
            col(AlertDelivery.claim_token) == claim.token,
            claim_token=None,
            last_error=reason,
            **values,
        )
        return retry_at

    def _defer(self, row_id: int, until: dt.datetime) -> int:
        """Not attempted: its endpoint just failed. Wait with the one that failed, without
        spending an attempt, rather than wait out a timeout per message."""
        return self._set(
            col(AlertDelivery.id) == row_id,
            col(AlertDelivery.status) == DeliveryStatus.pending,
            col(AlertDelivery.next_attempt_at) < until,
            next_attempt_at=until,
        )

    def expire_stale_claims(self) -> tuple[int, int]:
        """Resolve the claims of workers that stopped mid-send, by policy (see above).
        Returns how many became `unknown` and how many were queued to be sent again."""
        cutoff = self._now() - dt.timedelta(seconds=self._policy.claim_timeout_s)
        with self._sessions() as session:
            stale = session.exec(
                select(AlertDelivery.id, AlertDelivery.channel).where(
                    AlertDelivery.status == DeliveryStatus.sending,
                    col(AlertDelivery.claimed_at) < cutoff,
                )
            ).all()
        unknown: list[int] = []
        resent: list[int] = []
        for row_id, channel in stale:
            if row_id is None:
                continue
            notifier = self._notifiers.get(channel)
            if notifier is not None and notifier.drops_duplicates:
                if self._resend_stale(row_id, cutoff):
                    resent.append(row_id)
            elif self._set(
                col(AlertDelivery.id) == row_id,
                col(AlertDelivery.status) == DeliveryStatus.sending,
                col(AlertDelivery.claimed_at) < cutoff,
                status=DeliveryStatus.unknown,
                last_error=UNKNOWN_OUTCOME.format(id=row_id),
            ):
                unknown.append(row_id)
        if resent:
            log.warning("%d deliveries cut off mid-send are sent again: %s", len(resent), resent)
        if unknown:
            log.error("%d deliveries have an unknown outcome: %s", len(unknown), unknown)
        return len(unknown), len(resent)

    def _resend_stale(self, row_id: int, cutoff: dt.datetime) -> bool:
        """Back to the queue, due now, keeping its attempts; the re-send is recorded like
        a person's requeue, naming the policy as who asked."""
        now = self._now()
        with transaction(self._sessions) as session:
            changed = session.exec(
                update(AlertDelivery)
                .where(
                    col(AlertDelivery.id) == row_id,
                    col(AlertDelivery.status) == DeliveryStatus.sending,
                    col(AlertDelivery.claimed_at) < cutoff,
                )
                .values(
                    status=DeliveryStatus.pending,
                    next_attempt_at=now,
                    claim_token=None,
                    last_error=RESENT_OUTCOME,
                )
            )
            if changed.rowcount != 1:
                return False  # another dispatcher resolved it first
            session.add(
                DeliveryRequeue(
                    delivery_id=row_id,
                    previous_status=DeliveryStatus.sending,
                    previous_error=None,
                    requeued_by=AUTOMATIC_RESEND,
                    requeued_at=now,
                )
            )
            return True

    def requeue(self, row_ids: list[int], actor: str) -> int:
        """Send again (a person's decision): failed or unknown deliveries go back to the
        queue with a fresh set of attempts, and who asked is recorded beside them
        (`alert_delivery_requeue`). Cancelled deliveries stay cancelled: a delivery is only
        cancelled when its recipient unsubscribed. Returns how many were requeued."""
        now = self._now()
        done: list[int] = []
        with transaction(self._sessions) as session:
            for row_id in dict.fromkeys(row_ids):
                found = session.exec(
                    select(AlertDelivery.status, AlertDelivery.last_error).where(
                        AlertDelivery.id == row_id
                    )
                ).first()
                if found is None or found[0] not in RETRYABLE:
                    continue
                status, last_error = found
                changed = session.exec(
                    update(AlertDelivery)
                    .where(col(AlertDelivery.id) == row_id, col(AlertDelivery.status) == status)
                    .values(
                        status=DeliveryStatus.pending,
                        attempts=0,
                        next_attempt_at=now,
                        claim_token=None,
                    )
                )
                if changed.rowcount != 1:
                    continue  # it moved meanwhile (a slow send marked it sent)
                session.add(
                    DeliveryRequeue(
                        delivery_id=row_id,
                        previous_status=status,
                        previous_error=last_error,
                        requeued_by=actor,
                        requeued_at=now,
                    )
                )
                done.append(row_id)
        if done:
            log.info("%s requeued %d delivery(ies): %s", actor, len(done), done)
        return len(done)


class DeliveryLoop:
    """The outbox sent from a thread of its own: `dispatch` runs whenever `wake()` says new
    deliveries were queued, and every `idle_s` seconds for retries that came due. The
    consumer that queues deliveries only wakes it, so a relay that hangs for its whole
    timeout, or is down for hours, never holds up a partition."""

    def __init__(self, dispatch: Callable[[], object], idle_s: float) -> None:
        self._dispatch = dispatch
        self._idle_s = idle_s
        self._queued = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        # A daemon: a send hung on a dead relay must not keep a stopped worker alive.
        self._thread = threading.Thread(target=self._run, name="outbox-delivery", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._queued.set()

    def stop(self, wait_s: float) -> None:
        """Stop after the send in flight, waiting at most `wait_s` for it: cut off
        mid-send, its outcome would be unknown."""
        self._stopping.set()
        self._queued.set()
        if self._thread is not None:
            self._thread.join(wait_s)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._queued.clear()
            try:
                self._dispatch()
            except Exception:  # the loop must outlive any one pass (a database outage)
                log.exception("delivery pass failed; deliveries stay queued")
            self._queued.wait(self._idle_s)
