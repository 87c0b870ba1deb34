"""`capital status` on the real broker: the tracker group's lag per partition, going to 0
once a worker has caught up; the worker says which partitions it holds and its lag."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SAMPLE_PROGRAMME
from tests.integration.kafka_deployment import KafkaDeployment

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def status(deployment: KafkaDeployment) -> dict:
    shown = deployment.cli("status", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def tracker_lag(shown: dict, deployment: KafkaDeployment) -> dict[int, int]:
    group = f"{deployment.app_id}-tracker"
    return {
        row["partition"]: row["lag"]
        for row in shown["consumer_lag"]["partitions"]
        if row["group"] == group and row["topic"] == deployment.topic("capital.scheme-events")
    }


def test_status_shows_the_tracker_catching_up_to_no_lag(kafka_deployment: KafkaDeployment):
    published = kafka_deployment.cli("publish", str(SAMPLE_PROGRAMME))
    assert published.returncode == 0, published.stderr
    events = int(published.stdout.split()[1])

    before = status(kafka_deployment)
    assert before["bus"] == "kafka"
    lag = tracker_lag(before, kafka_deployment)
    assert sorted(lag) == list(range(kafka_deployment.partitions))
    assert sum(lag.values()) == events  # nothing consumed yet
    assert before["outbox"] == {"due": 0, "waiting": 0, "sending": 0, "failed": 0, "unknown": 0}
    assert before["dead_letters"] == {"count": 0, "latest": []}

    kafka_deployment.start_worker("tracker")
    kafka_deployment.wait(
        lambda: sum(tracker_lag(status(kafka_deployment), kafka_deployment).values()) == 0,
        180,
        "the tracker's lag to reach 0",
    )

    group = f"{kafka_deployment.app_id}-tracker"
    kafka_deployment.wait(
        lambda: f"{group}: lag 0 " in kafka_deployment.worker_logs(), 60, "the worker's report"
    )
    logs = kafka_deployment.worker_logs()
    assert f"{group}: assigned {kafka_deployment.partitions} partition(s)" in logs


def test_the_table_names_each_partition_and_the_total(kafka_deployment: KafkaDeployment):
    kafka_deployment.cli("publish", str(SAMPLE_PROGRAMME))

    table = kafka_deployment.cli("status", COLUMNS="200")

    assert table.returncode == 0, table.stderr
    assert "bus: kafka · consumer lag" in table.stdout
    assert f"{kafka_deployment.app_id}-notifier" in table.stdout
    assert "outbox: 0 due" in table.stdout and "dead letters: 0" in table.stdout
