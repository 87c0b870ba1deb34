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


def _drop_pooled_connection(engine, postgres_url: str) -> None:
    """The server ends the one connection in the engine's pool, as a restart would."""
    with engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    other = make_engine(postgres_url)
    with other.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()


def test_a_connection_dropped_while_idle_is_replaced_before_use(postgres_url, monkeypatch):
    monkeypatch.setattr(database, "IDLE_BEFORE_PING_S", 0.0)
    engine = make_engine(postgres_url)
    try:
        _drop_pooled_connection(engine, postgres_url)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_a_connection_reused_at_once_is_not_pinged(postgres_url, monkeypatch):
    monkeypatch.setattr(database, "IDLE_BEFORE_PING_S", 3600.0)
    engine = make_engine(postgres_url)
    try:
        _drop_pooled_connection(engine, postgres_url)
        # Not pinged, so the first statement meets the dropped connection; the pool is
        # then invalidated and the next attempt (the worker's retry) reconnects.
        with pytest.raises(OperationalError), engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()
