"""`capital db`: the database schema, versioned by the migrations in `capital/migrations`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy import Engine, inspect

from capital.cli.context import exit_on_unreachable, settings_from
from capital.keys import deployment_key
from capital.migrations import (
    BASELINE,
    current_revision,
    head_revision,
    upgrade_schema,
)
from capital.settings import Settings
from projection.database import make_engine, shown_url

db_app = typer.Typer(
    help="The database schema: upgrade it to this release, or show its revision. Start-up "
    "upgrades SQLite always and PostgreSQL unless CAPITAL_UPGRADE_SCHEMA_ON_START=false.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Bring the database to the current schema (a database written by release 0.1.0 is
    recognised and kept). Running it again changes nothing."""
    with schema_engine(ctx) as (engine, settings):
        key = deployment_key(settings.database_url, settings.secret_key)
        upgrade = upgrade_schema(engine, key)
    typer.echo(f"database {shown_url(settings.database_url)}: {upgrade.describe()}")


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Print the database's schema revision, marked (head) when it is this release's."""
    with schema_engine(ctx) as (engine, _):
        current = current_revision(engine)
        tables = inspect(engine).get_table_names()
    head = head_revision()
    if current is None and tables:
        typer.echo(
            "none (tables without a migration history: `capital db upgrade` adopts a "
            f"database written by release 0.1.0 at {BASELINE})"
        )
    elif current is None:
        typer.echo(f"none (no schema yet; `capital db upgrade` makes revision {head})")
    elif current == head:
        typer.echo(f"{current} (head)")
    else:
        typer.echo(f"{current} (this release needs {head}: run `capital db upgrade`)")


@contextmanager
def schema_engine(ctx: typer.Context) -> Iterator[tuple[Engine, Settings]]:
    """An engine on the configured database, without the start-up upgrade `bootstrap`
    does: these commands are how that upgrade is done by hand."""
    settings = settings_from(ctx)
    engine = make_engine(settings.database_url)
    try:
        with exit_on_unreachable(settings):
            yield engine, settings
    finally:
        engine.dispose()
