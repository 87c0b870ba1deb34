"""The daily sweep: overdue alerts, then each subscriber's digest, which also raises the late
news held for it (what a later event superseded meanwhile was dropped as it arrived). The
date is an argument (`run(today)`), so the scheduler, `capital sweep --today D` and the
tests run the same code.

Once per deployment, with any number of notifier replicas
----------------------------------------------------------
Every replica runs the scheduler, so at 07:00 each of them calls `run(today)`. The first
step is a claim on the `sweep_run` row for that date, made in its own committed
transaction: an INSERT whose primary key is the date. Exactly one replica's insert
succeeds; the others hit the key, see the claim and stop. This works the same on SQLite
and PostgreSQL, leaves a record of who swept when, and survives restarts.

A PostgreSQL advisory lock was the alternative: it would stop two sweeps running at the
same moment, but not a second one after the first had finished (a replica whose clock or
start-up lagged), it does not exist on SQLite, and it vanishes with the connection, so it
records nothing.

If the claiming replica dies mid-sweep, the row stays `running`; once older than
`run_lease_s`, another replica (or the next start-up catch-up) takes the claim over with a
compare-and-set and sweeps again. That is safe because the sweep is idempotent underneath
the claim: an overdue alert's key names the scheme and its expected date, and a digest's
delivery key names the recipient and the date, so a second sweep of the same day can
neither raise nor queue anything twice. The claim saves the work and keeps the log clean;
the unique keys are what guarantee "once".
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, update

from events import AlertRaised, SchemeSnapshot
from programme.position import Position
from programme.rag import RagPolicy
from projection.database import SessionFactory, transaction
from projection.views import scheme_snapshots
from services.notifier.digest import build_digest
from services.notifier.handlers import RecipientsOf, record_once
from services.notifier.outbox import worker_name
from services.notifier.rules import overdue_alerts
from services.notifier.store import (
    SweepRun,
    alerts_for_digest,
    enqueue,
    last_digest_until,
    release_held,
)

log = logging.getLogger(__name__)

FIRST_DIGEST_COVERS = dt.timedelta(days=1)
CLAIM_WHO_MAX = 67  # `sweep_run.claim_token` holds 80: who, a colon and 12 random characters


@dataclass(frozen=True)
class SweepReport:
    run_on: dt.date
    ran: bool
    raised: list[AlertRaised] = field(default_factory=list)
    already_overdue: int = 0
    digests_queued: int = 0
    previous_run: SweepRun | None = None
    released: list[AlertRaised] = field(default_factory=list)
    """Late news held for this digest, raised now (to publish with `raised`)."""


def claim_token(worker: str, actor: str | None = None) -> str:
    """`actor@host:pid:random`, cut to fit the column; `SweepRun.claimed_by` reads it back."""
    who = f"{actor}@{worker}" if actor else worker
    return f"{who[:CLAIM_WHO_MAX]}:{uuid.uuid4().hex[:12]}"


class DailySweep:
    def __init__(
        self,
        sessions: SessionFactory,
        policy: RagPolicy,
        recipients: RecipientsOf,
        now: Callable[[], dt.datetime],
        lease: dt.timedelta,
        worker: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._policy = policy
        self._recipients = recipients
        self._now = now
        self._lease = lease
        self._worker = worker or worker_name()
        self._actor: str | None = None

    @contextmanager
    def run_by(self, actor: str) -> Iterator[None]:
        """Attribute the sweeps run meanwhile (by `run`, or by a scheduler started meanwhile)
        to the person who asked for them, as well as to this worker."""
        previous, self._actor = self._actor, actor
        try:
            yield
        finally:
            self._actor = previous

    def run(self, today: dt.date, *, again: bool = False) -> SweepReport:
        """Sweep for `today` unless it has been swept; `again` sweeps anyway (safe: nothing
        is raised or queued twice). The claim names the person (see `run_by`) and the
        worker: `sweep_run` records who swept each date."""
        token = claim_token(self._worker, self._actor)
        if not self._claim(today, token, again):
            return SweepReport(today, ran=False, previous_run=self.last_run(today))
        now = self._now()
        with self._sessions() as session:
            snapshots = scheme_snapshots(session, Position(today), self._policy)
        recorded = record_once(
            self._sessions, overdue_alerts(snapshots, now), self._recipients, now
        )
        queued, released = self._queue_digests(today, snapshots, now)
        with transaction(self._sessions) as session:
            session.exec(
                update(SweepRun)
                .where(col(SweepRun.run_on) == today, col(SweepRun.claim_token) == token)
                .values(
                    status="done",
                    finished_at=self._now(),
                    overdue_raised=len(recorded.new),
                    digests_queued=queued,
                )
            )
        log.info(
            "swept %s: %d overdue alert(s) raised, %d digest(s) queued",
            today,
            len(recorded.new),
            queued,
        )
        return SweepReport(
            today, True, recorded.new, len(recorded.existing), queued, released=released
        )

    def last_run(self, today: dt.date) -> SweepRun | None:
        with self._sessions() as session:
            return session.get(SweepRun, today)

    def _claim(self, today: dt.date, token: str, again: bool) -> bool:
        now = self._now()
        try:
            with transaction(self._sessions) as session:
                session.add(
                    SweepRun(run_on=today, status="running", claim_token=token, started_at=now)
                )
            return True
        except IntegrityError:
            pass
        conditions = [col(SweepRun.run_on) == today]
        if not again:
            conditions += [
                col(SweepRun.status) == "running",
                col(SweepRun.started_at) < now - self._lease,
            ]
        with transaction(self._sessions) as session:
            taken = session.exec(
                update(SweepRun)
                .where(*conditions)
                .values(status="running", claim_token=token, started_at=now, finished_at=None)
            )
            return taken.rowcount == 1

    def _queue_digests(
        self, today: dt.date, snapshots: list[SchemeSnapshot], now: dt.datetime
    ) -> tuple[int, list[AlertRaised]]:
        """A digest per subscriber covering the alerts since their previous digest (a missed
        morning rolls into the next one) with the late news held for it, and today's red and
        amber schemes. The held alerts are raised in the same transaction: how many digests
        were queued, and the alerts released."""
        queued = 0
        with transaction(self._sessions) as session:
            for recipient in self._recipients(session):
                if not recipient.digest:
                    continue
                since = last_digest_until(session, recipient) or now - FIRST_DIGEST_COVERS
                alerts = alerts_for_digest(session, since, now)
                digest = build_digest(recipient, today, since, now, alerts, snapshots)
                if digest.is_empty:
                    continue
                queued += enqueue(
                    session,
                    f"digest:{today.isoformat()}:{recipient.key_hash}",
                    "digest",
                    recipient,
                    digest.model_dump_json(),
                    now,
                    digest_until=now,
                )
            released = release_held(session, now)
        return queued, released
