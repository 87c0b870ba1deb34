"""Faults the Kafka deployment survives, each on a broker and a PostgreSQL server of these
tests' own (killed and restarted here, never the shared ones), with the tracker and the
notifier as real `capital worker` processes. Every test ends the same way: the projection
equals the fold of all the events, each alert reached each subscriber once, and every
consumer group has committed up to the end of its topic."""

from __future__ import annotations

import email.policy
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from events import Envelope
from projection.database import make_engine, session_factory
from services.notifier.store import AlertDelivery
from tests.conftest import KAFKA_BOOTSTRAP, POSTGRES_URL, require_service
from tests.integration.kafka_deployment import (
    KafkaDeployment,
    Projection,
    expected_states,
    topics,
)
from tests.integration.private_services import PrivateServices, free_port, private_services
from tests.streams import generated_programme

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

HEAD = "head.of.capital@council.gov.uk"
SMTP_TIMEOUT_S = 2.0
WEBHOOK_TIMEOUT_S = 1.0


# A mail relay and a webhook receiver whose faults the test switches -------------------------


class MailRelay:
    """An SMTP relay on one port that is down (nothing listens), slow (takes connections
    and never answers) or up (aiosmtpd, keeping what it accepts)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.slow_connections = 0
        self._controller: Controller | None = None
        self._listener: socket.socket | None = None
        self._held: list[socket.socket] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(BytesParser(policy=email.policy.default).parsebytes(envelope.content))
        return "250 accepted"

    def down(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._listener is not None:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() below: port free
            self._listener.close()
            self._listener = None
        for held in self._held:
            held.close()
        self._held.clear()

    def slow(self) -> None:
        self.down()
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self._listener = listener

        def hold() -> None:
            while True:
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return  # closed: the relay changed state
                self.slow_connections += 1
                self._held.append(connection)  # no greeting: the client times out

        threading.Thread(target=hold, daemon=True).start()

    def up(self) -> None:
        self.down()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()


class WebhookReceiver:
    """A webhook endpoint answering 500 (`failing`), too late (`slow`), or 200 (`up`); it
    notes the idempotency key of every request and what it answered."""

    def __init__(self) -> None:
        self.mode = "up"
        self.answers: list[tuple[str, int]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                key = self.headers["Idempotency-Key"]
                status = {"failing": 500, "slow": 503, "up": 200}[receiver.mode]
                if receiver.mode == "slow":
                    time.sleep(WEBHOOK_TIMEOUT_S * 3)  # the sender has given up by now
                receiver.answers.append((key, status))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hooks/capital"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def accepted(self) -> Counter[str]:
        return Counter(key for key, status in self.answers if status == 200)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# Fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def services() -> Iterator[PrivateServices]:
    # Where the shared services run, so can these (the same scripts and binaries).
    require_service(KAFKA_BOOTSTRAP, "CAPITAL_TEST_KAFKA_BOOTSTRAP")
    require_service(POSTGRES_URL, "CAPITAL_TEST_POSTGRES_URL")
    with private_services() as started:
        yield started


@pytest.fixture
def relay() -> Iterator[MailRelay]:
    made = MailRelay()
    made.up()
    yield made
    made.down()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    made = WebhookReceiver()
    yield made
    made.close()


@pytest.fixture
def deployment(
    services: PrivateServices, tmp_path: Path, relay: MailRelay, webhook: WebhookReceiver
) -> Iterator[KafkaDeployment]:
    with services.database() as url:
        made = KafkaDeployment(services.bootstrap, url, tmp_path)
        made.create_topics()
        try:
            yield made
        finally:
            made.stop_workers()


def notifier_env(relay: MailRelay, webhook: WebhookReceiver) -> dict[str, str]:
    """Every alert to one person by email and to one webhook, retried within seconds."""
    subscribers = [
        {"email": HEAD, "severity": "info"},
        {"webhook_url": webhook.url, "severity": "info"},
    ]
    return {
        "CAPITAL_NOTIFIER__SMTP__HOST": "127.0.0.1",
        "CAPITAL_NOTIFIER__SMTP__PORT": str(relay.port),
        "CAPITAL_NOTIFIER__SMTP__TIMEOUT_S": str(SMTP_TIMEOUT_S),
        "CAPITAL_NOTIFIER__WEBHOOK__TIMEOUT_S": str(WEBHOOK_TIMEOUT_S),
        "CAPITAL_NOTIFIER__SUBSCRIBERS": json.dumps(subscribers),
        "CAPITAL_NOTIFIER__RETRY__INITIAL_DELAY_S": "0.5",
        "CAPITAL_NOTIFIER__RETRY__MAX_DELAY_S": "2",
        "CAPITAL_NOTIFIER__SWEEP__DISPATCH_INTERVAL_S": "0.5",
        # No start-up sweep of the real date's overdue schemes in the middle of the test.
        "CAPITAL_NOTIFIER__SWEEP__AT": "23:59",
        # The stream is an old history, whose alerts would wait for the digest; here news
        # of any age is news, so every alert is delivered through the faults at once.
        "CAPITAL_NOTIFIER__LATE_AFTER_DAYS": "100000",
    }


def start_workers(
    deployment: KafkaDeployment, relay: MailRelay, webhook: WebhookReceiver, trackers: int = 1
) -> None:
    for _ in range(trackers):
        deployment.start_worker("tracker")
    deployment.start_worker("notifier", **notifier_env(relay, webhook))


def stream(schemes: int = 20, events_per_scheme: int = 15) -> list[Envelope]:
    return generated_programme(schemes=schemes, events_per_scheme=events_per_scheme)


# What every fault test ends with ----------------------------------------------------------------


def consumers_at_end(deployment: KafkaDeployment) -> bool:
    return (
        deployment.lag("tracker", topics.SCHEME_EVENTS) == 0
        and deployment.lag("notifier", topics.STATE_CHANGES) == 0
    )


def delivery_states(deployment: KafkaDeployment) -> Counter[str]:
    """How many deliveries are in each state (read directly: polled every half second)."""
    engine = make_engine(deployment.database_url)
    try:
        with session_factory(engine)() as session:
            return Counter(session.exec(select(AlertDelivery.status)).all())
    finally:
        engine.dispose()


def all_delivered(deployment: KafkaDeployment) -> bool:
    states = delivery_states(deployment)
    return bool(states) and set(states) == {"sent"}


def assert_survived(
    deployment: KafkaDeployment,
    events: list[Envelope],
    relay: MailRelay,
    webhook: WebhookReceiver,
) -> None:
    started = time.monotonic()
    deployment.wait(
        lambda: consumers_at_end(deployment), 180, "every consumer to commit its end offsets"
    )
    print(f"\n[fault] consumers at the end offsets after {time.monotonic() - started:.1f} s")
    projection = Projection(deployment.database_url)
    assert projection.applied() == len(events)
    assert projection.states() == expected_states(events)

    deployment.wait(lambda: all_delivered(deployment), 120, "every delivery to be sent")
    print(f"[fault] every delivery sent after {time.monotonic() - started:.1f} s")
    alerts = json.loads(deployment.cli("alerts", "--format", "json").stdout)
    raised = {alert["alert_id"] for alert in alerts}
    assert raised and len(raised) == len(alerts)
    print(f"[fault] {len(events)} events, {len(raised)} alerts")
    # Each alert reached the person once and the webhook once; nothing raised twice.
    emailed = Counter(str(message["X-Capital-Alert-Id"]) for message in relay.messages)
    assert set(emailed) == raised and set(emailed.values()) == {1}
    assert len({message["Message-ID"] for message in relay.messages}) == len(raised)
    accepted = webhook.accepted()
    assert len(accepted) == len(raised) and set(accepted.values()) == {1}
    on_topic = deployment.read_topic(topics.ALERTS, timeout_s=5)
    published = {json.loads(value)["alert_id"] for value in on_topic}
    assert published == raised


def report(fault: str, started: float) -> None:
    """What the fault tests saw, for docs/reliability.md (shown with `pytest -s`)."""
    print(f"\n[fault] {fault}: recovered and checked in {time.monotonic() - started:.1f} s")


# The faults ----------------------------------------------------------------------------------


def test_the_broker_killed_and_restarted_mid_stream(
    deployment: KafkaDeployment,
    services: PrivateServices,
    relay: MailRelay,
    webhook: WebhookReceiver,
) -> None:
    events = stream()
    half = len(events) // 2
    start_workers(deployment, relay, webhook)
    deployment.produce_events(events[:half])
    projection = Projection(deployment.database_url)
    deployment.wait(lambda: projection.applied() >= half // 2, 120, "a quarter of the stream")

    started = time.monotonic()
    services.kafka("kill")
    services.kafka("start")
    deployment.produce_events(events[half:])

    assert_survived(deployment, events, relay, webhook)
    report("broker SIGKILL and restart", started)


def test_postgresql_restarted_mid_stream(
    deployment: KafkaDeployment,
    services: PrivateServices,
    relay: MailRelay,
    webhook: WebhookReceiver,
) -> None:
    events = stream()
    start_workers(deployment, relay, webhook)
    deployment.produce_events(events)
    projection = Projection(deployment.database_url)
    deployment.wait(lambda: projection.applied() >= len(events) // 4, 120, "a quarter applied")
    projection.engine.dispose()

    started = time.monotonic()
    services.postgres("kill")  # an immediate shutdown: the workers' connections break
    time.sleep(3)  # down for a while: the workers must wait, not exit
    services.postgres("start")

    assert_survived(deployment, events, relay, webhook)
    report("PostgreSQL crash and restart", started)


def test_one_of_three_trackers_killed_mid_stream_the_survivors_finish(
    deployment: KafkaDeployment, relay: MailRelay, webhook: WebhookReceiver
) -> None:
    events = stream(schemes=30)
    start_workers(deployment, relay, webhook, trackers=3)
    trackers = deployment.workers[:3]
    deployment.wait(
        lambda: deployment.group_members("tracker") == 3, 120, "three trackers in the group"
    )
    deployment.produce_events(events)
    projection = Projection(deployment.database_url)
    deployment.wait(lambda: projection.applied() >= len(events) // 4, 120, "a quarter applied")

    started = time.monotonic()
    trackers[0].kill()
    trackers[0].wait()

    assert_survived(deployment, events, relay, webhook)
    assert deployment.group_members("tracker") == 2
    report("one of three trackers SIGKILLed, rebalance", started)


def test_a_dead_then_slow_relay_and_a_failing_webhook_hold_up_no_partition(
    deployment: KafkaDeployment, relay: MailRelay, webhook: WebhookReceiver
) -> None:
    relay.down()
    webhook.mode = "failing"
    everything = stream(schemes=30)
    first_schemes = {e.scheme_id for e in everything[:40]}  # the ones that start first
    first = [e for e in everything if e.scheme_id in first_schemes]
    second = [e for e in everything if e.scheme_id not in first_schemes]
    start_workers(deployment, relay, webhook)

    # The relay is down and the webhook fails: both consumers still reach the end.
    deployment.produce_events(first)
    deployment.wait(lambda: consumers_at_end(deployment), 180, "consumers past a dead relay")
    assert relay.messages == [] and webhook.accepted() == Counter()
    # Queued, or an attempt in flight: none sent, none given up on.
    assert set(delivery_states(deployment)) <= {"pending", "sending"}

    # Slow: the relay takes connections and never answers, the webhook answers too late.
    relay.slow()
    webhook.mode = "slow"
    deployment.produce_events(second)
    deployment.wait(lambda: consumers_at_end(deployment), 180, "consumers past a slow relay")
    deployment.wait(
        lambda: relay.slow_connections > 0 and len(webhook.answers) > 0,
        60,
        "deliveries tried against the slow relay and webhook",
    )
    assert relay.messages == [] and webhook.accepted() == Counter()

    started = time.monotonic()
    relay.up()
    webhook.mode = "up"
    assert_survived(deployment, everything, relay, webhook)
    report("relay down then slow, webhook 500 then timing out", started)
