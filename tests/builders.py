"""Terse builders for tests: scheme histories, principals and the command line."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from capital.application.accounts import operator
from capital.application.principal import Principal
from capital.bootstrap import Container
from capital.cli import app
from events import Envelope, new_event


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def event(
    event_type: str,
    occurred_on: str,
    scheme_id: str = "S-1",
    recorded_on: str | None = None,
    actor: str = "pm.tester",
    **payload: Any,
) -> Envelope:
    recorded = dt.datetime.combine(day(recorded_on or occurred_on), dt.time(12), dt.UTC)
    return new_event(
        event_type,
        scheme_id,
        day(occurred_on),
        payload,
        actor=actor,
        recorded_at=recorded,
        event_id=uuid.uuid4(),
    )


def registered(
    scheme_id: str = "S-1",
    on: str = "2024-01-01",
    budget: str = "100000",
    baseline_completion: str | None = "2024-06-30",
    funding: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> Envelope:
    return event(
        "scheme.registered",
        on,
        scheme_id,
        title=extra.pop("title", f"Scheme {scheme_id}"),
        budget=budget,
        funding=funding if funding is not None else [{"source": "CCIP6", "amount": budget}],
        baseline_completion=baseline_completion,
        **extra,
    )


def operator_as(name: str, container: Container) -> Principal:
    """The command line's principal: an operator acting as `name`, whose roles apply."""
    return operator(container.sessions, "tests", name)


def command_line(
    monkeypatch: pytest.MonkeyPatch, database_url: str, **settings: str
) -> Callable[..., Result]:
    """`capital ARGS` run in-process on `database_url`; each keyword is a setting given as
    its environment variable (`actor="pm.alice"` sets CAPITAL_ACTOR). Exceptions propagate."""
    monkeypatch.setenv("CAPITAL_DATABASE_URL", database_url)
    for name, value in settings.items():
        monkeypatch.setenv(f"CAPITAL_{name.upper()}", value)
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return run
