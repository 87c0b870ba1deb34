"""Shared fixtures.

Databases: `database_url` runs a test on SQLite and, when the real server is available
(`CAPITAL_TEST_POSTGRES_URL`, set by `scripts/test`), on PostgreSQL too. In CI a missing
service is a failure, never a skip.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from capital.bootstrap import Container, bootstrap
from capital.settings import Settings

POSTGRES_URL = os.environ.get("CAPITAL_TEST_POSTGRES_URL")
KAFKA_BOOTSTRAP = os.environ.get("CAPITAL_TEST_KAFKA_BOOTSTRAP")
IN_CI = os.environ.get("CI", "").lower() == "true"

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SAMPLE_PROGRAMME = REPO / "capital" / "data" / "sample-programme.jsonl"


def require_service(value: str | None, name: str) -> str:
    """The service address, or a skip on a developer machine; CI must have it."""
    if value:
        return value
    if IN_CI:
        pytest.fail(f"{name} is required in CI but not configured")
    pytest.skip(f"{name} not configured (run the tests with scripts/test)")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    server = require_service(POSTGRES_URL, "CAPITAL_TEST_POSTGRES_URL")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = server.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'capital.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'capital.db'}"


@pytest.fixture
def make_container() -> Iterator:
    """Build containers like a process would; all are closed after the test."""
    built: list[Container] = []

    def build(database_url: str, today: dt.date | None = None, **overrides: object) -> Container:
        settings = Settings(database_url=database_url, today=today, **overrides)
        container = bootstrap(settings)
        built.append(container)
        return container

    yield build
    for container in built:
        container.close()


@pytest.fixture
def container(make_container, sqlite_url: str) -> Container:
    """The embedded default: in-memory bus and SQLite, clock fixed at 2024-07-29."""
    return make_container(sqlite_url, today=dt.date(2024, 7, 29))


@pytest.fixture(autouse=True)
def no_stored_login(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Commands under test never pick up a developer's own `capital login`."""
    monkeypatch.setenv("CAPITAL_LOGIN_FILE", str(tmp_path_factory.mktemp("login") / "login.json"))
