"""Alembic's environment: run by `capital.migrations` on the caller's connection, or by a
developer's `alembic` command (repository `alembic.ini`) on `CAPITAL_DATABASE_URL`."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, DateTime, TypeDecorator
from sqlmodel.sql.sqltypes import AutoString

from capital.migrations import model_metadata
from capital.settings import Settings
from projection.database import make_engine


def render_type(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Revisions name plain SQL types, never the product's Python types: a revision must
    still run after the models it was written from have changed or gone."""
    if type_ != "type":
        return False
    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length!r})" if obj.length else "sa.String()"
    if isinstance(obj, TypeDecorator) and isinstance(obj.impl, DateTime):
        return f"sa.DateTime(timezone={obj.impl.timezone!r})"
    return False


def run_migrations(**target: Any) -> None:
    """On a `connection`, or offline (`alembic upgrade --sql`) on a `url`."""
    context.configure(
        target_metadata=model_metadata(),
        # SQLite alters a table by copying it; batch operations do that there and plain
        # ALTERs on PostgreSQL, so one revision serves both.
        render_as_batch=True,
        compare_type=True,
        render_item=render_type,
        **target,
    )
    with context.begin_transaction():
        context.run_migrations()


given: Connection | None = context.config.attributes.get("connection")
if given is not None:
    run_migrations(connection=given)
elif context.is_offline_mode():
    run_migrations(url=Settings().database_url, literal_binds=True)
else:
    engine = make_engine(Settings().database_url)
    try:
        with engine.begin() as connection:
            run_migrations(connection=connection)
    finally:
        engine.dispose()
