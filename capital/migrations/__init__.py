"""The database schema, versioned with Alembic: every change to a table is a revision in
`versions/`, applied in order on SQLite and PostgreSQL alike.

`upgrade_schema` brings a database to the newest revision. A database written by release
0.1.0 (whose tables `create_all` made, so it has no `alembic_version`) is recognised by its
tables and stamped at the baseline before upgrading, so it keeps its data; a database holding
anything else without a migration history is refused rather than written into.

The environment lives here, in the package, so it ships with the product; `alembic.ini` at
the repository root only points developers' `alembic` command at it.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, MetaData, create_engine, inspect, text
from sqlmodel import SQLModel

from capital.keys import deployment_key
from projection.database import shown_url

# Alembic is imported where a revision is read or applied: loading it takes longer than
# most commands, which only need to see that the database is at the head already.
if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent
BASELINE = "0001"
"""The schema of release 0.1.0, exactly as `create_all` made it."""
VERSION_TABLE = "alembic_version"
SECRET_KEY_ATTRIBUTE = "secret_key"
"""Where a revision finds the deployment's key: `context.config.attributes`."""
SCHEMA_LOCK_ID = 73_240_001
"""Held while the schema changes, so workers and commands starting together take turns."""


class SchemaRefused(Exception):
    """The database holds tables that are not a Capital Tracker schema we can upgrade."""


@dataclass(frozen=True)
class SchemaUpgrade:
    before: str | None
    after: str
    adopted: bool
    """True when a release 0.1.0 database (no migration history) was stamped at the
    baseline before upgrading."""

    def describe(self) -> str:
        if self.adopted:
            return (
                f"recognised a database written by release 0.1.0: stamped {BASELINE}, "
                f"upgraded to {self.after}"
            )
        if self.before == self.after:
            return f"already at {self.after} (head); nothing to do"
        return f"upgraded from {self.before or 'an empty database'} to {self.after}"


def model_metadata() -> MetaData:
    """Every table of the product, on the one shared metadata: the projection's and the
    notifier's. This package is where both are known, so the projection stays ignorant of
    the services."""
    import projection.tables  # noqa: F401  (each module registers its tables)
    import services.notifier.store  # noqa: F401

    return SQLModel.metadata


def alembic_config(connection: Connection | None = None, secret_key: str | None = None) -> Config:
    """Alembic configured from code, not from an ini file in the working directory. With a
    connection the migrations run on it, inside the caller's transaction. The deployment's
    secret key goes to the revisions that encrypt data already stored (0003)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    config.attributes[SECRET_KEY_ATTRIBUTE] = secret_key
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migration in {MIGRATIONS / 'versions'}")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None when it has no migration history."""
    with engine.connect() as connection:
        return _current(connection)


def upgrade_schema(engine: Engine, secret_key: str | None = None) -> SchemaUpgrade:
    """Bring the database to the newest revision, in one transaction. Processes that start
    together take turns: an advisory lock on PostgreSQL, a write lock on SQLite. Without a
    `secret_key` a SQLite database's own key file is used (`capital.keys`)."""
    from alembic import command
    from alembic.util import CommandError

    head = head_revision()
    if current_revision(engine) == head:
        # The usual start: nothing to do, and no lock that would wait behind a writer.
        return SchemaUpgrade(head, head, adopted=False)
    with engine.begin() as connection:
        _lock_schema(connection)
        before = _current(connection)
        adopted = before is None and _is_release_0_1_0(connection, shown_url(str(engine.url)))
        key = secret_key or deployment_key(engine.url.render_as_string(hide_password=False), None)
        config = alembic_config(connection, key)
        if adopted:
            command.stamp(config, BASELINE)
        try:
            command.upgrade(config, "head")
        except CommandError as refused:
            # A revision that cannot proceed says why (0003: webhook URLs and no key).
            raise SchemaRefused(f"database {shown_url(str(engine.url))}: {refused}") from None
        after = _current(connection)
    assert after is not None, "an upgraded database has a revision"
    return SchemaUpgrade(before, after, adopted)


def prepare_schema(engine: Engine, upgrade: bool, secret_key: str | None = None) -> None:
    """What a starting process does: upgrade the database, or (PostgreSQL with `upgrade`
    false, where upgrades are a deployment step) refuse one that is not at the head."""
    head = declared_head()
    if head is not None and _recorded_revision(engine) == head:
        return  # the usual start: Alembic need not even be loaded
    if upgrade or engine.dialect.name == "sqlite":
        upgrade_schema(engine, secret_key)
        return
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaRefused(
            f"database {shown_url(str(engine.url))} is at schema revision {current or 'none'} "
            f"but this release needs {head}: run `capital db upgrade` (upgrades at start-up "
            "are off: CAPITAL_UPGRADE_SCHEMA_ON_START=false)"
        )


def _lock_schema(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": SCHEMA_LOCK_ID})
    elif connection.dialect.name == "sqlite":
        # The driver opens no transaction before DDL; without this two processes starting
        # on a new file would both create the tables.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        # Read the schema under the lock: PRAGMA table_info (how the revision is found)
        # answers from this connection's cached schema, which another process may have
        # changed while we waited.


@functools.cache
def declared_head() -> str | None:
    """The head revision read from the revision files themselves (their `revision` and
    `down_revision` assignments), without loading Alembic; None when that is not one
    plain chain (a merge, a branch), and Alembic must decide."""
    revisions: dict[str, object] = {}
    for path in (MIGRATIONS / "versions").glob("*.py"):
        declared = {
            target.id: node.value
            for node in ast.parse(path.read_text(encoding="utf-8")).body
            if isinstance(node, ast.AnnAssign | ast.Assign)
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision")
            if node.value is not None
        }
        if "revision" not in declared:
            continue
        try:
            revision = ast.literal_eval(declared["revision"])
            down = ast.literal_eval(declared.get("down_revision", ast.Constant(None)))
        except ValueError:
            return None
        revisions[revision] = down
    if not all(isinstance(down, str | None) for down in revisions.values()):
        return None
    heads = set(revisions) - set(revisions.values())
    return heads.pop() if len(heads) == 1 else None


def _recorded_revision(engine: Engine) -> str | None:
    """The revision the database records, read with plain SQL (None without a history)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    return rows[0][0] if len(rows) == 1 else None


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _is_release_0_1_0(connection: Connection, shown: str) -> bool:
    """False for an empty database, True for one holding every table and column of the
    baseline; anything else is refused, naming what does not fit."""
    found = _tables(connection)
    if not found:
        return False
    expected = _baseline_tables()
    missing = sorted(set(expected) - set(found))
    short = sorted(
        f"{table}.{column}"
        for table, columns in expected.items()
        if table in found
        for column in columns - found[table]
    )
    if not missing and not short:
        return True
    problems = []
    if missing:
        problems.append(f"missing tables {', '.join(missing)}")
    if short:
        problems.append(f"missing columns {', '.join(short)}")
    unrelated = sorted(set(found) - set(expected))
    if unrelated:
        problems.append(f"other tables {', '.join(unrelated)}")
    raise SchemaRefused(
        f"database {shown} has tables but no migration history ({VERSION_TABLE}), and they "
        f"are not those of Capital Tracker 0.1.0: {'; '.join(problems)}. Use an empty "
        "database, or one written by Capital Tracker."
    )


@functools.cache
def _baseline_tables() -> dict[str, frozenset[str]]:
    """Each table of the baseline revision and its columns, read from the revision itself
    applied to a scratch in-memory database, so there is no second copy of the schema."""
    from alembic import command

    scratch = create_engine("sqlite://")
    try:
        with scratch.begin() as connection:
            command.upgrade(alembic_config(connection), BASELINE)
            return _tables(connection)
    finally:
        scratch.dispose()


def _tables(connection: Connection) -> dict[str, frozenset[str]]:
    """Each table the database holds (but Alembic's own) and its columns."""
    inspector = inspect(connection)
    return {
        name: frozenset(column["name"] for column in inspector.get_columns(name))
        for name in inspector.get_table_names()
        if name != VERSION_TABLE
    }
