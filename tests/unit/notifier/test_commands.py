"""The notifier's commands as people type them: what they show of a webhook's secrets, and
what `capital outbox retry` will and will not send again."""

from __future__ import annotations

import datetime as dt
import getpass
import json

import pytest
from sqlmodel import col, select, update
from typer.testing import CliRunner

from capital.cli import app
from events import AlertKind, AlertRaised, Severity, encode
from projection.database import SessionFactory, transaction
from services.notifier.store import AlertDelivery, DeliveryRequeue, DeliveryStatus, enqueue
from services.notifier.subscriptions import Recipient, webhook_url

SECRET_HOOK = "https://svc:s3cretpw@hooks.example.com/services/T0/B0/tok3n"
NOW = dt.datetime(2024, 7, 29, 6, 0, tzinfo=dt.UTC)
ALERT = AlertRaised(
    alert_id=AlertRaised.alert_id_for("slippage:S-1:test"),
    dedup_key="slippage:S-1:test",
    scheme_id="S-1",
    kind=AlertKind.slippage,
    severity=Severity.critical,
    subject="[RED] S-1 slipped 70 days: new completion 6 Jan 2023",
    message="S-1 slipped 70 days.",
    raised_at=NOW,
)


@pytest.fixture
def capital(sqlite_url, monkeypatch):
    monkeypatch.setenv("CAPITAL_DATABASE_URL", sqlite_url)
    # Nothing listens on port 1: a delivery sent by these tests fails at once, offline.
    monkeypatch.setenv("CAPITAL_NOTIFIER__SMTP__HOST", "127.0.0.1")
    monkeypatch.setenv("CAPITAL_NOTIFIER__SMTP__PORT", "1")
    runner = CliRunner()

    def run(*args: str, actor: str = "ops.sam"):
        return runner.invoke(app, ["--actor", actor, *args], catch_exceptions=False)

    return run


class Outbox:
    """Deliveries queued as an alert would queue them, in the status a test needs."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    def add(self, recipient: Recipient, status: DeliveryStatus = DeliveryStatus.pending) -> int:
        key = f"alert:test:{recipient.key_hash}"
        error = "550 mailbox full" if status == DeliveryStatus.failed else None
        with transaction(self._sessions) as session:
            payload = encode(ALERT).decode("utf-8")
            enqueue(session, key, "alert", recipient, payload, NOW, alert_id=str(ALERT.alert_id))
            session.exec(
                update(AlertDelivery)
                .where(col(AlertDelivery.delivery_key) == key)
                .values(status=status, last_error=error)
            )
            row = session.exec(select(AlertDelivery).where(AlertDelivery.delivery_key == key))
            delivery_id = row.one().id
        assert delivery_id is not None
        return delivery_id

    def status(self, delivery_id: int) -> str:
        with self._sessions() as session:
            row = session.get(AlertDelivery, delivery_id)
            assert row is not None
            return row.status

    def requeues(self) -> list[DeliveryRequeue]:
        with self._sessions() as session:
            return list(session.exec(select(DeliveryRequeue)))


@pytest.fixture
def outbox(make_container, sqlite_url) -> Outbox:
    return Outbox(make_container(sqlite_url).sessions)


def test_webhook_credentials_are_never_shown(capital, outbox: Outbox) -> None:
    added = capital("subscribers", "add-webhook", SECRET_HOOK, "--severity", "critical")
    outbox.add(Recipient(channel="webhook", address=webhook_url(SECRET_HOOK)))

    shown = [
        added,
        capital("subscribers", "list"),
        capital("subscribers", "list", "--format", "json"),
        capital("outbox", "list"),
        capital("outbox", "list", "--format", "json"),
        capital("outbox", "list", "--format", "csv"),
        capital("subscribers", "remove", SECRET_HOOK),
    ]
    gone = capital("subscribers", "remove", SECRET_HOOK)

    assert all(result.exit_code == 0 for result in shown), [r.output for r in shown]
    assert "subscribed https://hooks.example.com/…ok3n" in added.stdout
    [row] = json.loads(shown[4].stdout)
    assert row["recipient"] == "https://hooks.example.com/…ok3n"
    assert (
        gone.exit_code == 2 and "no subscription 'https://hooks.example.com/…ok3n'" in gone.stderr
    )
    for result in [*shown, gone]:
        assert "s3cretpw" not in result.output
        assert "svc:" not in result.output


def test_retrying_a_delivery_that_does_not_exist_is_an_error(capital, outbox: Outbox) -> None:
    failed = outbox.add(
        Recipient(channel="email", address="head@council.gov.uk"), DeliveryStatus.failed
    )

    result = capital("outbox", "retry", str(failed), "99999")

    assert result.exit_code == 2
    assert result.stderr.strip() == "no delivery 99999"
    assert outbox.status(failed) == "failed" and outbox.requeues() == []


def test_a_retry_records_who_asked_for_it(capital, outbox: Outbox) -> None:
    capital("subscribers", "add", "head@council.gov.uk")
    failed = outbox.add(
        Recipient(channel="email", address="head@council.gov.uk"), DeliveryStatus.failed
    )

    result = capital("outbox", "retry", str(failed), actor="ops.sam")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("requeued 1;")
    [requeue] = outbox.requeues()
    assert (requeue.delivery_id, requeue.previous_status) == (failed, "failed")
    # The person, and the operator account the command ran under.
    assert requeue.requeued_by == f"ops.sam (operator:{getpass.getuser()})"


def test_a_retry_never_sends_what_unsubscribing_cancelled(capital, outbox: Outbox) -> None:
    capital("subscribers", "add", "leaving@council.gov.uk")
    queued = outbox.add(Recipient(channel="email", address="leaving@council.gov.uk"))
    removed = capital("subscribers", "remove", "leaving@council.gov.uk")
    assert "1 queued delivery(ies) cancelled" in removed.stdout

    named = capital("outbox", "retry", str(queued))
    failed_ones = capital("outbox", "retry", "--failed")

    assert named.exit_code == 1
    cancelled = f"delivery {queued} not requeued: it was cancelled (unsubscribed by ops.sam"
    assert f"{cancelled} (operator:" in named.stderr
    assert named.stdout.startswith("requeued 0;")
    assert failed_ones.exit_code == 0 and failed_ones.stdout.startswith("requeued 0;")
    assert outbox.status(queued) == "cancelled" and outbox.requeues() == []
