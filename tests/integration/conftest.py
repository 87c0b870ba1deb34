from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import KAFKA_BOOTSTRAP, require_service
from tests.integration.kafka_deployment import KafkaDeployment


@pytest.fixture
def kafka_deployment(postgres_url: str, tmp_path: Path) -> Iterator[KafkaDeployment]:
    bootstrap = require_service(KAFKA_BOOTSTRAP, "CAPITAL_TEST_KAFKA_BOOTSTRAP")
    deployment = KafkaDeployment(bootstrap, postgres_url, tmp_path)
    deployment.create_topics()
    try:
        yield deployment
    finally:
        deployment.stop_workers()
