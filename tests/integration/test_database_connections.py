"""Pooled PostgreSQL connections: pinged before reuse only after sitting idle, so a worker
taking events back to back does not pay a round trip per transaction, and a connection the
server dropped while idle is replaced without the caller seeing it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import projection.database as database
from projection.database import make_engine

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine_with_a_dropped_connection(postgres_url, monkeypatch):
    """An engine whose one pooled connection the server has ended, as a restart would;
    `idle_before_ping(seconds)` sets how long it must sit idle to be pinged."""
    engine = make_engine(postgres_url)
    with engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    other = make_engine(postgres_url)
    with other.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()

    def idle_before_ping(seconds: float):
        monkeypatch.setattr(database, "IDLE_BEFORE_PING_S", seconds)
        return engine

    yield idle_before_ping
    engine.dispose()


def test_a_connection_dropped_while_idle_is_replaced_before_use(engine_with_a_dropped_connection):
    engine = engine_with_a_dropped_connection(0.0)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar_one() == 1


def test_a_connection_reused_at_once_is_not_pinged(engine_with_a_dropped_connection):
    engine = engine_with_a_dropped_connection(3600.0)
    # Not pinged, so the first statement meets the dropped connection; the pool is then
    # invalidated and the next attempt (the worker's retry) reconnects.
    with pytest.raises(OperationalError), engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar_one() == 1
