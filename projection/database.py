"""Engine and sessions for SQLite (embedded default) or PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlmodel import Session, create_engine

SessionFactory = Callable[[], Session]

IDLE_BEFORE_PING_S = 5.0
"""A pooled connection unused for this long is pinged before it is handed out again."""


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL is safe against a process crash and avoids an fsync per
            # transaction; only a power cut can lose the last commits.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    engine = create_engine(url)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before reuse only when it has been idle: the server may
    have dropped it (restart, idle timeout) while nobody used it. A worker taking events
    back to back reuses its connection at once and is not made to pay a round trip per
    transaction (SQLAlchemy's `pool_pre_ping` pings at every checkout); if the database
    goes away mid-stream, the statement fails, the pool is invalidated, and the worker's
    retry reconnects."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_BEFORE_PING_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool discards this connection and checks out a new one.
            raise DisconnectionError(f"pooled connection went away while idle: {error}") from error


def shown_url(url: str) -> str:
    """The database URL fit to print: any password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def session_factory(engine: Engine) -> SessionFactory:
    def new_session() -> Session:
        return Session(engine, expire_on_commit=False)

    return new_session


@contextmanager
def transaction(sessions: SessionFactory) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any error."""
    with sessions() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def write_transaction(sessions: SessionFactory) -> Iterator[Session]:
    """A transaction that reads what it will change. On PostgreSQL, rows read `FOR UPDATE`
    are locked; SQLite has no row locks and Python's driver only begins a transaction at
    the first write, so two processes could both read a scheme and the later write would
    lose the earlier one. Here SQLite's write lock is taken first (BEGIN IMMEDIATE):
    writers take turns, readers are not blocked (WAL)."""
    with transaction(sessions) as session:
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text("BEGIN IMMEDIATE"))
        yield session
