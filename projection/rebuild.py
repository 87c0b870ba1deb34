"""Fresh projection tables beside the live ones, written by a rebuild and swapped in at once.

PostgreSQL: the fresh tables are built in their own schema (`capital_rebuild`) with every
index and constraint under its final name; the swap drops the live tables and moves the
fresh ones into the live schema, in one transaction. SQLite: the fresh tables live in the
same file as `rebuild_<name>`, without their secondary indexes while they fill (inserting
is faster); the swap drops the live tables, renames the fresh ones and creates their
indexes, in one transaction. Until the swap commits, readers read the live tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, MetaData, Table, func, select, text
from sqlalchemy.engine import Engine

from projection.tables import FundingMovement, Scheme, SchemeEvent, SchemeVersion

REBUILT: tuple[Table, ...] = tuple(
    model.__table__  # type: ignore[union-attr]
    for model in (Scheme, SchemeEvent, SchemeVersion, FundingMovement)
)
"""The tables a rebuild replaces: the read model of the scheme events."""
REBUILD_SCHEMA = "capital_rebuild"
SQLITE_PREFIX = "rebuild_"


class FreshTables:
    """Empty copies of the projection's tables, to be filled and then swapped in."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self._metadata = MetaData()
        self.tables: dict[str, Table] = {}
        for live in REBUILT:
            if self.postgres:
                fresh = live.to_metadata(self._metadata, schema=REBUILD_SCHEMA)
            else:
                fresh = live.to_metadata(self._metadata, name=SQLITE_PREFIX + live.name)
                fresh.indexes.clear()
            self.tables[live.name] = fresh

    def create(self) -> None:
        """Make the fresh tables, dropping any left by a rebuild that did not finish."""
        with self.engine.begin() as connection:
            if self.postgres:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {REBUILD_SCHEMA} CASCADE"))
                connection.execute(text(f"CREATE SCHEMA {REBUILD_SCHEMA}"))
            self._metadata.drop_all(connection)
            self._metadata.create_all(connection)

    def discard(self) -> None:
        with self.engine.begin() as connection:
            if self.postgres:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {REBUILD_SCHEMA} CASCADE"))
            else:
                self._metadata.drop_all(connection)

    def table(self, live: Table) -> Table:
        return self.tables[live.name]

    def insert(self, connection: Connection, live: Table, rows: list[dict[str, Any]]) -> None:
        if rows:
            connection.execute(self.table(live).insert(), rows)

    @contextmanager
    def swapping(self) -> Iterator[Connection]:
        """One transaction that first stops the tracker writing (readers carry on with
        the live tables), lets the caller bring the fresh tables up to date, then swaps
        them in and commits."""
        with self.engine.connect() as connection:
            if self.postgres:
                connection.execute(text("SELECT 1"))  # begins the transaction
                # EXCLUSIVE conflicts with the tracker's FOR UPDATE, not with readers.
                names = ", ".join(live.name for live in REBUILT)
                connection.execute(text(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield connection
                self._swap(connection)
                connection.commit()
            except BaseException:
                connection.rollback()
                raise

    def _swap(self, connection: Connection) -> None:
        for live in REBUILT:
            connection.execute(text(f"DROP TABLE {live.name}"))
        if self.postgres:
            schema = connection.execute(text("SELECT current_schema()")).scalar_one()
            for live in REBUILT:
                connection.execute(
                    text(f"ALTER TABLE {REBUILD_SCHEMA}.{live.name} SET SCHEMA {schema}")
                )
            connection.execute(text(f"DROP SCHEMA {REBUILD_SCHEMA}"))
            # New events are numbered after the rebuilt ones.
            connection.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('scheme_event', 'seq'), "
                    "coalesce((SELECT max(seq) FROM scheme_event), 0) + 1, false)"
                )
            )
            return
        for live in REBUILT:
            connection.execute(
                text(f"ALTER TABLE {SQLITE_PREFIX}{live.name} RENAME TO {live.name}")
            )
        for live in REBUILT:
            for index in live.indexes:
                index.create(connection)


def row_count(connection: Connection, table: Table) -> int:
    return connection.execute(select(func.count()).select_from(table)).scalar_one()
