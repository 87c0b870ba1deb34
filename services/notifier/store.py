"""The notifier's tables and queries (sqlmodel, on the shared metadata; the schema itself
is made and changed by the migrations in `capital/migrations`).

- `alert`: every alert ever raised, unique by `dedup_key`, with who acknowledged it. Its
  `status` is `raised` (out at once to whoever wants it), `held` (late news waiting for the
  next digest, which raises it) or `superseded` (held, then a later event of its scheme
  changed what it reported before any digest: never raised, kept so a replay of its event
  cannot raise it either).
- `alert_delivery`: the outbox. A row per (alert or digest, recipient), written in the same
  transaction as the alert, unique by `delivery_key`, so a replay adds nothing. `status`
  moves pending -> sending (claimed) -> sent | pending again (retry) | failed; a claim
  that outlives its worker becomes `unknown` (see `outbox.py`).
- `subscriber`: subscriptions made with the CLI (settings add more, see `settings.py`).

In both `alert_delivery` and `subscriber`, `address` is what may be shown (an email address,
or a webhook URL masked); a webhook's URL is only in `sealed_address`, encrypted or as a
reference to the settings (see `vault.py`), and `recipient_hash` is its keyed fingerprint.
- `sweep_run`: one row per swept date: how the daily sweep runs once per deployment, and
  who (person and worker) swept it.
- `alert_delivery_requeue`: who sent a delivery again (`capital outbox retry`), when, and
  what state it was in. A table of its own rather than a column on `alert_delivery`, so
  every re-send is kept, not only the last.

Times are stored as naive UTC and read back as aware UTC on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, DateTime, Index, Text, TypeDecorator, and_, func, or_, update
from sqlalchemy.engine import Dialect
from sqlmodel import Field, Session, SQLModel, col, select

from events import AlertRaised, Severity, decode_as, encode
from projection.tables import SchemeEvent
from services.notifier.subscriptions import Recipient


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Naive UTC in the database, aware UTC in Python: SQLite keeps no zone and
    PostgreSQL `timestamp` would shift aware values by the session zone."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store aware datetimes only (UTC)")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        return value.replace(tzinfo=dt.UTC) if value is not None else None


def _when(nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=Column(UtcDateTime(), nullable=nullable, index=index))


def _text(nullable: bool = False) -> Any:
    return Field(sa_column=Column(Text, nullable=nullable))


class AlertStatus(StrEnum):
    raised = "raised"
    held = "held"
    superseded = "superseded"


class Alert(SQLModel, table=True):
    __tablename__ = "alert"
    __table_args__ = (Index("ix_alert_scheme_status", "scheme_id", "status"),)

    alert_id: str = Field(primary_key=True, max_length=36)
    dedup_key: str = Field(unique=True, max_length=200)
    scheme_id: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=16)
    severity: str = Field(max_length=16)
    subject: str = _text()
    message: str = _text()
    raised_at: dt.datetime = _when(index=True)
    cause_event_id: str | None = Field(default=None, max_length=36)
    actor: str | None = None
    acknowledged_at: dt.datetime | None = _when(nullable=True)
    acknowledged_by: str | None = None
    alert_json: str = _text()
    status: str = Field(default=AlertStatus.raised, max_length=16)
    superseded_by: str | None = Field(default=None, max_length=36)  # the later event's id

    def message_model(self) -> AlertRaised:
        return decode_as(AlertRaised, self.alert_json)


class DeliveryStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    unknown = "unknown"
    cancelled = "cancelled"


class AlertDelivery(SQLModel, table=True):
    __tablename__ = "alert_delivery"
    __table_args__ = (Index("ix_alert_delivery_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    delivery_key: str = Field(unique=True, max_length=200)
    kind: str = Field(max_length=16)  # "alert" or "digest"
    alert_id: str | None = Field(default=None, index=True, max_length=36)
    channel: str = Field(max_length=16)
    address: str = _text()
    sealed_address: str | None = _text(nullable=True)
    recipient_hash: str = Field(index=True, max_length=64)
    payload_json: str = _text()
    status: str = Field(default=DeliveryStatus.pending, max_length=16)
    attempts: int = 0
    next_attempt_at: dt.datetime = _when()
    claim_token: str | None = Field(default=None, max_length=80)
    claimed_at: dt.datetime | None = _when(nullable=True)
    sent_at: dt.datetime | None = _when(nullable=True)
    last_error: str | None = _text(nullable=True)
    created_at: dt.datetime = _when()
    digest_until: dt.datetime | None = _when(nullable=True)


class Subscriber(SQLModel, table=True):
    __tablename__ = "subscriber"

    id: int | None = Field(default=None, primary_key=True)
    recipient_hash: str = Field(unique=True, max_length=64)
    channel: str = Field(max_length=16)
    address: str = _text()
    sealed_address: str | None = _text(nullable=True)
    role: str = Field(max_length=64)
    min_severity: str = Field(max_length=16)
    schemes_json: str = _text()
    digest: bool = True
    active: bool = True
    created_at: dt.datetime = _when()
    created_by: str | None = None
    removed_at: dt.datetime | None = _when(nullable=True)
    removed_by: str | None = None

    def recipient(self) -> Recipient:
        return Recipient(
            channel=self.channel,
            address=self.address,
            sealed=self.sealed_address,
            fingerprint=self.recipient_hash,
            role=self.role,
            min_severity=Severity(self.min_severity),
            schemes=frozenset(json.loads(self.schemes_json)),
            digest=self.digest,
            source="cli",
            subscriber_id=self.id,
        )


class SweepRun(SQLModel, table=True):
    __tablename__ = "sweep_run"

    run_on: dt.date = Field(primary_key=True)
    status: str = Field(max_length=16)  # "running" or "done"
    claim_token: str = Field(max_length=80)
    started_at: dt.datetime = _when()
    finished_at: dt.datetime | None = _when(nullable=True)
    overdue_raised: int = 0
    digests_queued: int = 0

    @property
    def claimed_by(self) -> str:
        """Who swept: `person@host:pid` (or the worker alone for an unattended one)."""
        return self.claim_token.rsplit(":", 1)[0]


class DeliveryRequeue(SQLModel, table=True):
    __tablename__ = "alert_delivery_requeue"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(index=True)
    previous_status: str = Field(max_length=16)
    previous_error: str | None = _text(nullable=True)
    requeued_by: str = _text()
    requeued_at: dt.datetime = _when()


@dataclass(frozen=True)
class Recorded:
    new: list[AlertRaised]
    existing: list[AlertRaised]
    held: list[AlertRaised] = field(default_factory=list)


def record_alerts(
    session: Session,
    alerts: list[AlertRaised],
    recipients: list[Recipient],
    now: dt.datetime,
    held: bool = False,
) -> Recorded:
    """Store each alert not seen before and queue its deliveries in the caller's
    transaction; `held` ones (late news) queue nothing and wait for the next digest. Seen
    before (same dedup key) means handled already: nothing is added, and a stored alert
    that was raised is handed back, so a replay re-publishes exactly what was raised (and
    nothing held or superseded)."""
    new: list[AlertRaised] = []
    existing: list[AlertRaised] = []
    waiting: list[AlertRaised] = []
    for alert in alerts:
        stored = session.exec(select(Alert).where(Alert.dedup_key == alert.dedup_key)).first()
        if stored is not None:
            if stored.status == AlertStatus.raised:
                existing.append(stored.message_model())
            continue
        session.add(_alert_row(alert, AlertStatus.held if held else AlertStatus.raised))
        if held:
            waiting.append(alert)
            continue
        for recipient in recipients:
            if recipient.wants_now(alert):
                enqueue(
                    session,
                    f"alert:{alert.alert_id}:{recipient.key_hash}",
                    "alert",
                    recipient,
                    encode(alert).decode("utf-8"),
                    now,
                    alert_id=str(alert.alert_id),
                )
        new.append(alert)
    return Recorded(new, existing, waiting)


def supersede_held(
    session: Session,
    scheme_id: str,
    later_event_id: str,
    no_longer_holds: Callable[[AlertRaised], bool],
) -> list[AlertRaised]:
    """Mark superseded the alerts of `scheme_id` still held for the digest, raised by events
    the tracker applied before `later_event_id`, that `no_longer_holds` given the later
    event. Only earlier events count, so a replay of an older state change supersedes
    nothing a newer one raised. Returns the alerts superseded."""
    held = session.exec(
        select(Alert, SchemeEvent.seq)
        .join(SchemeEvent, col(SchemeEvent.event_id) == col(Alert.cause_event_id))
        .where(Alert.scheme_id == scheme_id, Alert.status == AlertStatus.held)
    ).all()
    if not held:
        return []
    later_seq = session.exec(
        select(SchemeEvent.seq).where(SchemeEvent.event_id == later_event_id)
    ).first()
    if later_seq is None:
        return []  # not an event this tracker applied: nothing to order it against
    superseded = []
    for row, seq in held:
        alert = row.message_model()
        if seq is not None and seq < later_seq and no_longer_holds(alert):
            row.status = AlertStatus.superseded
            row.superseded_by = later_event_id
            session.add(row)
            superseded.append(alert)
    return superseded


def release_held(session: Session, until: dt.datetime) -> list[AlertRaised]:
    """The held alerts up to `until` become raised: the digest built now carries them."""
    rows = session.exec(
        select(Alert)
        .where(Alert.status == AlertStatus.held, col(Alert.raised_at) <= until)
        .order_by(col(Alert.raised_at))
    ).all()
    for row in rows:
        row.status = AlertStatus.raised
        session.add(row)
    return [row.message_model() for row in rows]


def enqueue(
    session: Session,
    delivery_key: str,
    kind: str,
    recipient: Recipient,
    payload_json: str,
    now: dt.datetime,
    alert_id: str | None = None,
    digest_until: dt.datetime | None = None,
) -> bool:
    """Queue one delivery unless its key is queued already; True when queued now."""
    seen = session.exec(
        select(AlertDelivery.id).where(AlertDelivery.delivery_key == delivery_key)
    ).first()
    if seen is not None:
        return False
    session.add(
        AlertDelivery(
            delivery_key=delivery_key,
            kind=kind,
            alert_id=alert_id,
            channel=recipient.channel,
            address=recipient.address,
            sealed_address=recipient.sealed,
            recipient_hash=recipient.key_hash,
            payload_json=payload_json,
            next_attempt_at=now,
            created_at=now,
            digest_until=digest_until,
        )
    )
    return True


def _alert_row(alert: AlertRaised, status: AlertStatus) -> Alert:
    return Alert(
        status=status,
        alert_id=str(alert.alert_id),
        dedup_key=alert.dedup_key,
        scheme_id=alert.scheme_id,
        kind=alert.kind.value,
        severity=alert.severity.value,
        subject=alert.subject,
        message=alert.message,
        raised_at=alert.raised_at,
        cause_event_id=str(alert.cause_event_id) if alert.cause_event_id else None,
        actor=alert.actor,
        alert_json=encode(alert).decode("utf-8"),
    )


def alerts_for_digest(
    session: Session, since: dt.datetime, until: dt.datetime
) -> list[AlertRaised]:
    """The alerts a digest covering (since, until] reports: those raised in it, and every
    alert held for the digest until then, however long ago it arrived. Never a superseded
    one."""
    rows = session.exec(
        select(Alert)
        .where(
            col(Alert.raised_at) <= until,
            or_(
                and_(col(Alert.status) == AlertStatus.raised, col(Alert.raised_at) > since),
                col(Alert.status) == AlertStatus.held,
            ),
        )
        .order_by(col(Alert.raised_at))
    )
    return [row.message_model() for row in rows]


def last_digest_until(session: Session, recipient: Recipient) -> dt.datetime | None:
    """Where this recipient's previous digest ended, so the next one starts there."""
    return session.exec(
        select(AlertDelivery.digest_until)
        .where(AlertDelivery.kind == "digest", AlertDelivery.recipient_hash == recipient.key_hash)
        .order_by(col(AlertDelivery.digest_until).desc())
        .limit(1)
    ).first()


# Subscribers -------------------------------------------------------------------------------


def active_recipients(session: Session) -> list[Recipient]:
    rows = session.exec(select(Subscriber).where(col(Subscriber.active).is_(True)))
    return [row.recipient() for row in rows]


def save_subscriber(
    session: Session, recipient: Recipient, actor: str, now: dt.datetime
) -> Subscriber:
    """Subscribe, or change an existing (even removed) subscription to the same address."""
    row = session.exec(
        select(Subscriber).where(Subscriber.recipient_hash == recipient.key_hash)
    ).first()
    values: dict[str, Any] = {
        "channel": recipient.channel,
        "address": recipient.address,
        "sealed_address": recipient.sealed,
        "role": recipient.role,
        "min_severity": recipient.min_severity.value,
        "schemes_json": json.dumps(sorted(recipient.schemes)),
        "digest": recipient.digest,
        "active": True,
        "removed_at": None,
        "removed_by": None,
    }
    if row is None:
        row = Subscriber(
            recipient_hash=recipient.key_hash, created_at=now, created_by=actor, **values
        )
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.add(row)
    session.flush()
    return row


def find_subscriber(
    session: Session, subscriber_id: int | None, fingerprints: list[str]
) -> Subscriber | None:
    """An active subscription by id, or by the fingerprint of its address."""
    query = select(Subscriber).where(col(Subscriber.active).is_(True))
    if subscriber_id is not None:
        return session.exec(query.where(Subscriber.id == subscriber_id)).first()
    if not fingerprints:
        return None
    return session.exec(query.where(col(Subscriber.recipient_hash).in_(fingerprints))).first()


def remove_subscriber(session: Session, row: Subscriber, actor: str, now: dt.datetime) -> int:
    """Unsubscribe: the row stays for the record; deliveries not yet sent are cancelled,
    since the person asked to hear no more. Returns how many were cancelled."""
    row.active = False
    row.removed_at = now
    row.removed_by = actor
    session.add(row)
    cancelled = session.exec(
        update(AlertDelivery)
        .where(
            col(AlertDelivery.recipient_hash) == row.recipient_hash,
            col(AlertDelivery.status) == DeliveryStatus.pending,
        )
        .values(status=DeliveryStatus.cancelled, last_error=f"unsubscribed by {actor}")
    )
    return int(cancelled.rowcount or 0)


# Reading alerts ---------------------------------------------------------------------------


_ATTENTION_ORDER = (
    DeliveryStatus.failed,
    DeliveryStatus.unknown,
    DeliveryStatus.sending,
    DeliveryStatus.pending,
    DeliveryStatus.sent,
)


@dataclass(frozen=True)
class AlertWithDeliveries:
    alert: Alert
    deliveries: list[AlertDelivery]

    @property
    def delivery_status(self) -> str:
        """One word for the alert: the state that most needs attention wins; `digest` while
        it waits, held, for the next digest."""
        if self.alert.status == AlertStatus.held:
            return "digest"
        states = {d.status for d in self.deliveries if d.status != DeliveryStatus.cancelled}
        for state in _ATTENTION_ORDER:
            if state in states:
                return "pending" if state is DeliveryStatus.sending else state.value
        return "none"


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts a reader asked for; every condition given must hold. The scheme id is
    compared without regard to case. One place for the CLI and the HTTP API."""

    scheme_id: str | None = None
    since: dt.datetime | None = None
    unacknowledged: bool = False

    @property
    def narrows(self) -> bool:
        return self.scheme_id is not None or self.since is not None or self.unacknowledged

    def query(self) -> Any:
        """Superseded alerts were never raised: no reader sees them."""
        query = (
            select(Alert)
            .where(col(Alert.status) != AlertStatus.superseded)
            .order_by(col(Alert.raised_at).desc(), col(Alert.alert_id))
        )
        if self.scheme_id is not None:
            query = query.where(func.lower(Alert.scheme_id) == self.scheme_id.strip().lower())
        if self.since is not None:
            query = query.where(Alert.raised_at >= self.since)
        if self.unacknowledged:
            query = query.where(col(Alert.acknowledged_at).is_(None))
        return query


def list_alerts(
    session: Session, wanted: AlertFilter | None = None, limit: int | None = None
) -> list[AlertWithDeliveries]:
    query = (wanted or AlertFilter()).query()
    if limit is not None:
        query = query.limit(limit)
    alerts = list(session.exec(query))
    by_alert: dict[str, list[AlertDelivery]] = {a.alert_id: [] for a in alerts}
    ids = list(by_alert)
    for start in range(0, len(ids), 500):
        rows = session.exec(
            select(AlertDelivery)
            .where(col(AlertDelivery.alert_id).in_(ids[start : start + 500]))
            .order_by(col(AlertDelivery.id))
        )
        for row in rows:
            by_alert[row.alert_id or ""].append(row)
    return [AlertWithDeliveries(a, by_alert[a.alert_id]) for a in alerts]


def find_alerts(session: Session, id_or_prefix: str) -> list[Alert]:
    """An alert by its id or a unique prefix of it (people type the first few characters)."""
    text = id_or_prefix.strip().lower()
    exact = session.get(Alert, text)
    if exact is not None:
        return [exact] if exact.status != AlertStatus.superseded else []
    return list(
        session.exec(
            select(Alert)
            .where(
                col(Alert.alert_id).startswith(text), col(Alert.status) != AlertStatus.superseded
            )
            .limit(2)
        )
    )
