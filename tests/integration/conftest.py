from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from capital.bootstrap import Container
from tests.conftest import KAFKA_BOOTSTRAP, require_service
from tests.integration.kafka_deployment import KafkaDeployment
from tests.portal import TODAY, seed


@pytest.fixture
def kafka_deployment(postgres_url: str, tmp_path: Path) -> Iterator[KafkaDeployment]:
    bootstrap = require_service(KAFKA_BOOTSTRAP, "CAPITAL_TEST_KAFKA_BOOTSTRAP")
    deployment = KafkaDeployment(bootstrap, postgres_url, tmp_path)
    deployment.create_topics()
    try:
        yield deployment
    finally:
        deployment.stop_workers()


@pytest.fixture
def seeded(make_container, sqlite_url: str) -> Container:
    """The portal's people, one of each role, and the project manager's scheme, on SQLite
    with the clock at the portal tests' day (without the council's register)."""
    container = make_container(sqlite_url, today=TODAY)
    seed(container, register=False)
    return container
