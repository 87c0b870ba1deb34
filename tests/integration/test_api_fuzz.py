"""The HTTP API fuzzed from its own OpenAPI document (schemathesis): every operation, with
inputs that fit the schema and inputs that do not, signed in as an administrator (who
reaches everything) and not signed in at all. No input may make the service fail (5xx),
and every response must match what the document declares.

Bounded and reproducible: a fixed number of examples per operation, derandomized.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from capital.api import create_app
from capital.application import accounts
from capital.settings import Settings
from tests.integration.api_world import World, seeded_world

EXAMPLES_PER_OPERATION = 25
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
FUZZING = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    database=None,
)


@pytest.fixture(scope="module")
def world(module_database_url: str) -> Iterator[World]:
    # PostgreSQL too: it refuses inputs SQLite takes (a NUL character in text).
    with seeded_world(module_database_url) as seeded:
        yield seeded


# The schema is read when the module is collected, before any database exists; the routes
# look the container up on each request, so the seeded one is put in place for the tests.
# (schemathesis.pytest.from_fixture would defer this, but does not work with pytest 9.)
APP = create_app(SimpleNamespace(settings=Settings(), secret_key=None))  # type: ignore[arg-type]
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def serving(world: World) -> None:
    APP.state.container = world.container


@schema.parametrize()
@FUZZING
def test_as_an_administrator_nothing_fails(case: schemathesis.Case, world: World) -> None:
    # A fresh token each time: the fuzzer may well sign out, which revokes the token used.
    issued = accounts.issue_token(
        world.container.sessions,
        world.principal("admin"),
        world.email("admin"),
        dt.timedelta(hours=1),
    )
    case.call_and_validate(headers={"Authorization": f"Bearer {issued.token}"}, checks=CHECKS)


@schema.parametrize()
@FUZZING
def test_not_signed_in_nothing_fails_and_only_health_answers(case: schemathesis.Case) -> None:
    response = case.call_and_validate(checks=CHECKS)
    public = case.path in ("/api/health", "/openapi.json") or case.path.startswith(
        ("/api/auth/sign-in", "/api/auth/token", "/auth/sso/")
    )
    if not public:
        # Refused: not signed in, or the request is not one the API takes at all.
        assert response.status_code in (400, 401, 405, 413, 422), (case.path, response.status_code)
