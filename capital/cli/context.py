"""What every command shares: settings from flags and `CAPITAL_*`, the container, errors."""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from kafka.errors import KafkaError
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from capital.application import positions
from capital.application.accounts import operator
from capital.application.errors import InvalidInput
from capital.application.principal import AccessDenied, Operation, Principal, require
from capital.bootstrap import Container, bootstrap
from capital.cli.remote import Login, stored_login
from capital.migrations import SchemaRefused
from capital.settings import Settings
from programme.position import Position
from projection.database import shown_url


def parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (use YYYY-MM-DD)") from None


TodayOption = Annotated[
    str | None,
    typer.Option("--today", help="Judge RAG and sweeps as on this date (YYYY-MM-DD)."),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="What a committee saw on this date: as at it and as known on it (YYYY-MM-DD).",
    ),
]
AsAtOption = Annotated[
    str | None,
    typer.Option(
        "--as-at",
        help="The programme as it stood on this date: events that occurred by then "
        "(YYYY-MM-DD; RAG is judged on it unless --today says otherwise).",
    ),
]
KnownOnOption = Annotated[
    str | None,
    typer.Option(
        "--known-on", help="Only what had been recorded by the end of this date (YYYY-MM-DD)."
    ),
]


def chosen_position(
    container: Container,
    as_at: str | None,
    known_on: str | None,
    as_of: str | None,
    today: str | None,
) -> Position:
    """The position the reader's `--as-at`, `--known-on` and `--as-of` pick, judged on
    `--today` when given."""
    dates = (parse_date(text) for text in (as_at, known_on, as_of, today))
    try:
        return positions.position(container, *dates)
    except InvalidInput as error:
        raise fail(f"--{error.field.replace('_', '-')}: {error}", 2) from None


def settings_from(ctx: typer.Context, **overrides: Any) -> Settings:
    values = {**(ctx.obj or {}), **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return Settings(**values)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise typer.BadParameter(f"invalid settings: {problems}") from None


@contextmanager
def open_container(ctx: typer.Context, **overrides: Any) -> Iterator[Container]:
    """The wired application for one command. A database or broker that cannot be
    reached ends the command with one line saying which and why, not a traceback."""
    settings = settings_from(ctx, **overrides)
    with exit_on_unreachable(settings):
        container = bootstrap(settings)
        try:
            yield container
        finally:
            container.close()


@contextmanager
def exit_on_unreachable(settings: Settings) -> Iterator[None]:
    """A database or broker that cannot be reached, or a schema this release refuses, ends
    the command with one line saying which and why (exit 2), not a traceback."""
    try:
        yield
    except SQLAlchemyError as error:
        reason = str(error.orig if isinstance(error, DBAPIError) else error).splitlines()[0]
        raise fail(f"database {shown_url(settings.database_url)}: {reason}", 2) from None
    except SchemaRefused as error:
        raise fail(str(error), 2) from None
    except KafkaError as error:
        raise fail(f"Kafka at {settings.kafka_bootstrap}: {error}", 2) from None


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, err=True, fg="red")
    return typer.Exit(code)


def operator_principal(container: Container) -> Principal:
    """The command line run against the database is an operator's tool: the operator acts
    as themselves, or as the user `--actor` names, and their OS account is recorded."""
    return operator(container.sessions, getpass.getuser(), container.settings.actor)


def authorised(container: Container, operation: Operation) -> Principal:
    """The operator, once the application layer allows them the operation; exit 3 if not."""
    principal = operator_principal(container)
    with exit_on_refusal():
        require(principal, operation)
    return principal


@contextmanager
def exit_on_refusal(*bad_input: type[Exception]) -> Iterator[None]:
    """A use case's refusal ends the command with its message: exit 3 when the principal
    may not do it, exit 2 for the `bad_input` errors (input it cannot take, nothing found)."""
    try:
        yield
    except AccessDenied as error:
        raise fail(str(error), 3) from None
    except bad_input as error:
        raise fail(str(error), 2) from None


def signed_in(ctx: typer.Context) -> Login | None:
    """The stored `capital login`, unless a database is named: then the command is an
    operator's, run against that database."""
    if "database_url" in settings_from(ctx).model_fields_set:
        return None
    return stored_login()
