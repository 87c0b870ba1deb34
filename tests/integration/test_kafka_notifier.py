"""Slippage alerts on the Kafka deployment: events published through the CLI end as
delivered emails, with the tracker and the notifier as real Faust workers."""

from __future__ import annotations

import email.policy
import json
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import SAMPLE_PROGRAMME
from tests.integration.kafka_deployment import KafkaDeployment, topics

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

HEAD = "head.of.capital@council.gov.uk"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(BytesParser(policy=email.policy.default).parsebytes(envelope.content))
        return "250 accepted"

    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for message in self.messages]


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def test_a_slipped_completion_published_through_the_cli_reaches_the_head_of_capital(
    kafka_deployment: KafkaDeployment, inbox: tuple[Inbox, int]
):
    mailbox, port = inbox
    smtp = {
        "CAPITAL_NOTIFIER__SMTP__HOST": "127.0.0.1",
        "CAPITAL_NOTIFIER__SMTP__PORT": str(port),
        "CAPITAL_TODAY": "2024-07-29",
        # The sample is an old history, whose alerts would wait for the digest; here the
        # deployment treats news of any age as news, to follow one email through Kafka.
        "CAPITAL_NOTIFIER__LATE_AFTER_DAYS": "100000",
    }
    subscribed = kafka_deployment.cli(
        "subscribers",
        "add",
        HEAD,
        "--role",
        "head_of_capital",
        "--severity",
        "critical",
        "--scheme",
        "CYPE-018",
        **smtp,
    )
    assert subscribed.returncode == 0, subscribed.stderr
    kafka_deployment.start_worker("tracker", **smtp)
    kafka_deployment.start_worker("notifier", **smtp)

    published = kafka_deployment.cli("publish", str(SAMPLE_PROGRAMME), "--wait", **smtp)
    assert published.returncode == 0, published.stderr

    slip = "[RED] CYPE-018 slipped 70 days: new completion 6 Jan 2023"
    kafka_deployment.wait(lambda: slip in mailbox.subjects(), 180, "the slippage email")
    message = next(m for m in mailbox.messages if m["Subject"] == slip)
    assert message["To"] == HEAD
    text = message.get_body(("plain",)).get_content()
    assert "Asbestos found in the old kitchen ceiling void" in text
    assert "estates.pm" in text
    assert all("CYPE-018" in subject for subject in mailbox.subjects())

    alerts = [json.loads(v) for v in kafka_deployment.read_topic(topics.ALERTS)]
    assert any(a["kind"] == "slippage" and a["scheme_id"] == "CYPE-018" for a in alerts)
    listed = json.loads(
        kafka_deployment.cli("alerts", "--format", "json", "--scheme", "CYPE-018").stdout
    )
    slippage = next(row for row in listed if row["kind"] == "slippage")
    assert slippage["severity"] == "critical"
    assert mailbox.subjects().count(slip) == 1
