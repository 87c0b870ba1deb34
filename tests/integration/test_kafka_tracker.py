"""The tracker as a real Faust worker on the real Kafka broker, PostgreSQL as the store."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from events import Envelope, decode_envelope
from tests.conftest import SAMPLE_PROGRAMME
from tests.integration.kafka_deployment import (
    KafkaDeployment,
    Projection,
    expected_states,
    topics,
)
from tests.streams import generated_programme

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def sample_events() -> list[Envelope]:
    return [decode_envelope(line) for line in SAMPLE_PROGRAMME.read_text().splitlines()]


def test_events_published_through_the_cli_are_tracked_in_postgres(
    kafka_deployment: KafkaDeployment,
):
    kafka_deployment.start_worker("tracker")
    published = kafka_deployment.cli("publish", str(SAMPLE_PROGRAMME), "--wait", "--timeout", "180")
    assert published.returncode == 0, published.stderr + kafka_deployment.worker_logs()
    assert "published 34 event(s); refused 0 line(s)" in published.stdout

    projection = Projection(kafka_deployment.database_url)
    assert projection.states() == expected_states(sample_events())

    board = json.loads(
        kafka_deployment.cli("schemes", "--format", "json", "--today", "2024-07-29").stdout
    )
    cype_018 = next(row for row in board if row["scheme_id"] == "CYPE-018")
    assert (cype_018["slippage_days"], cype_018["programme_rag"]) == (70, "red")


def test_duplicate_delivery_changes_nothing(kafka_deployment: KafkaDeployment):
    events = sample_events()
    raw = [(e.scheme_id.encode(), e.model_dump_json().encode()) for e in events]
    kafka_deployment.produce(topics.SCHEME_EVENTS, raw + raw[:10])
    kafka_deployment.start_worker("tracker")
    projection = Projection(kafka_deployment.database_url)
    kafka_deployment.wait(
        lambda: kafka_deployment.lag("tracker", topics.SCHEME_EVENTS) == 0,
        120,
        "the tracker to commit every offset",
    )
    assert projection.applied() == len(events)
    assert projection.states() == expected_states(events)
    changes = kafka_deployment.read_topic(topics.STATE_CHANGES)
    message_ids = {json.loads(value)["message_id"] for value in changes}
    assert len(message_ids) == len(events)  # re-emissions reuse the id consumers dedupe on


def test_poison_messages_go_to_the_dead_letter_topic_and_the_stream_goes_on(
    kafka_deployment: KafkaDeployment,
):
    registration = sample_events()[0]
    invalid_field = registration.model_dump(mode="json")
    invalid_field.update(event_id=str(uuid.uuid4()), occurred_on="2024-02-30")
    poison = [
        b"\x00\x01 not json at all",
        json.dumps({**invalid_field, "type": "scheme.levitated"}).encode(),
        json.dumps(invalid_field).encode(),
    ]
    kafka_deployment.produce(
        topics.SCHEME_EVENTS,
        [(b"CYPE-003", value) for value in poison]
        + [(b"CYPE-003", registration.model_dump_json().encode())],
    )
    kafka_deployment.start_worker("tracker")
    projection = Projection(kafka_deployment.database_url)
    kafka_deployment.wait(
        lambda: "CYPE-003" in projection.states(), 120, "the valid event after poison"
    )

    letters = [json.loads(v) for v in kafka_deployment.read_topic(topics.DEAD_LETTERS)]
    assert [base64.b64decode(letter["original_base64"]) for letter in letters] == poison
    reasons = [letter["reason"] for letter in letters]
    assert reasons[0].startswith("not valid JSON")
    assert "unknown event type 'scheme.levitated'" in reasons[1]
    assert reasons[2].startswith("occurred_on")
    listed = kafka_deployment.cli("dead-letters", "--format", "json")
    assert len(json.loads(listed.stdout)) == 3


def test_a_tracker_killed_three_times_ends_with_exactly_the_folded_state(
    kafka_deployment: KafkaDeployment,
):
    events = generated_programme(schemes=60, events_per_scheme=25)
    kafka_deployment.produce_events(events)
    projection = Projection(kafka_deployment.database_url)
    for kill in range(1, 4):
        worker = kafka_deployment.start_worker("tracker")
        target = min(len(events) - 1, kill * len(events) // 4)  # at least 20% more each time
        kafka_deployment.wait(
            lambda t=target: projection.applied() >= t,
            240,
            f"{target} events applied before kill {kill}",
        )
        worker.kill()
        worker.wait()
    kafka_deployment.start_worker("tracker")
    kafka_deployment.wait(
        lambda: kafka_deployment.lag("tracker", topics.SCHEME_EVENTS) == 0,
        300,
        "the restarted tracker to commit every offset",
    )
    assert projection.applied() == len(events)
    assert projection.states() == expected_states(events)


def test_a_rebuild_from_the_topic_gives_the_fold_of_its_events_and_lists_what_it_skipped(
    kafka_deployment: KafkaDeployment,
):
    events = sample_events()
    repeated = events[3]
    kafka_deployment.produce(
        topics.SCHEME_EVENTS,
        [(e.scheme_id.encode(), e.model_dump_json().encode()) for e in events]
        + [
            (b"CYPE-003", b"{not an event"),
            (repeated.scheme_id.encode(), repeated.model_dump_json().encode()),
        ],
    )
    Projection(kafka_deployment.database_url)  # an empty projection: no tracker has run

    rebuilt = kafka_deployment.cli("projection", "rebuild", "--from-topic")

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"rebuilt the projection from the topic: {len(events)} events" in rebuilt.stdout
    assert "skipped (not an event): not valid JSON" in rebuilt.stdout
    projection = Projection(kafka_deployment.database_url)
    assert projection.applied() == len(events)
    assert projection.states() == expected_states(events)
