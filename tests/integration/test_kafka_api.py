"""The HTTP API on the Kafka transport: an event posted to the API goes through the broker
to a real tracker worker and reaches the projection every reader queries."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from capital.api import create_app
from capital.bootstrap import bootstrap
from capital.settings import Settings, WebSettings
from tests.builders import event
from tests.conftest import SAMPLE_PROGRAMME
from tests.integration.kafka_deployment import KafkaDeployment

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def test_a_slip_posted_to_the_api_is_tracked_by_the_kafka_worker(
    kafka_deployment: KafkaDeployment,
):
    kafka_deployment.start_worker("tracker")
    published = kafka_deployment.cli("publish", str(SAMPLE_PROGRAMME), "--wait", "--timeout", "180")
    assert published.returncode == 0, published.stderr + kafka_deployment.worker_logs()
    admin = {"CAPITAL_ACTOR": "admin@council.gov.uk"}
    users = [("admin@council.gov.uk", "admin"), ("hoc@council.gov.uk", "head_of_capital")]
    for email, role in users:
        added = kafka_deployment.cli("users", "add", email, "--role", role, **admin)
        assert added.returncode == 0, added.stderr
    token = kafka_deployment.cli("users", "token", "hoc@council.gov.uk", **admin).stdout.strip()
    settings = Settings(
        bus="kafka",
        kafka_bootstrap=kafka_deployment.bootstrap,
        kafka_topic_prefix=kafka_deployment.prefix,
        database_url=kafka_deployment.database_url,
        today=dt.date(2024, 7, 29),
        web=WebSettings(publish_wait_seconds=120),
    )
    container = bootstrap(settings)
    try:
        api = TestClient(create_app(container), headers={"Authorization": f"Bearer {token}"})
        slip = event(
            "completion.revised", "2024-07-29", "CYPE-018",
            anticipated_completion="2023-03-31", reason="Asbestos in the ceiling void",
        )  # fmt: skip

        posted = api.post("/api/events", json=slip.model_dump(mode="json", exclude={"actor"}))

        assert posted.status_code == 200, posted.text + kafka_deployment.worker_logs()
        assert posted.json()["published"] == [
            {"event_id": str(slip.event_id), "type": "completion.revised", "scheme_id": "CYPE-018"}
        ]
        scheme = api.get("/api/schemes/CYPE-018").json()
        assert scheme["scheme"]["anticipated_completion"] == "2023-03-31"
        assert scheme["history"][-1]["actor"] == "hoc@council.gov.uk"
        board = api.get("/api/schemes", params={"q": "CYPE-018"}).json()["data"]
        assert [(r["scheme_id"], r["overall_rag"]) for r in board] == [("CYPE-018", "red")]
    finally:
        container.close()
