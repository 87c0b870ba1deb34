"""A database seeded for the HTTP API's tests: the council's real register as recorded on
the pack's date, the morning sweep's alerts, and a user of each role with a token."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from capital.application import accounts, references
from capital.application.importing import import_register
from capital.application.principal import Principal
from capital.bootstrap import Container, bootstrap
from capital.cli.demo import register_path
from capital.settings import Settings
from programme.permissions import Role
from programme.reference import ReferenceKind

TODAY = dt.date(2024, 7, 29)
PASSWORD = "correct horse battery staple"
OPERATOR = "test-operator"

USERS: dict[str, tuple[str, list[Role]]] = {
    "admin": ("admin@council.example", [Role.admin]),
    "head_of_capital": ("head@council.example", [Role.head_of_capital]),
    "project_manager": ("pm@council.example", [Role.project_manager]),
    "finance": ("finance@council.example", [Role.finance]),
    "no_role": ("visitor@council.example", []),
}


@dataclass
class World:
    """The seeded database, its container and a bearer token for each role."""

    container: Container
    url: str
    tokens: dict[str, str]

    def email(self, role: str) -> str:
        return USERS[role][0]

    def bearer(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def principal(self, role: str) -> Principal:
        email, roles = USERS[role]
        return Principal.user(email, roles)


@contextmanager
def seeded_world(database_url: str) -> Iterator[World]:
    # A deployment key, so webhook subscriptions work on PostgreSQL as on SQLite.
    settings = Settings(database_url=database_url, today=TODAY, secret_key="api-tests-key")
    container = bootstrap(settings)
    try:
        yield World(container, database_url, _seed(container))
    finally:
        container.close()


def _seed(container: Container) -> dict[str, str]:
    operator = accounts.operator(container.sessions, OPERATOR)
    import_register(container, register_path(), sheet=None, recorded_on=TODAY, principal=operator)
    container.run_daily_sweep(TODAY, again=True)
    # A source the register does not use, which the tests record budgets against.
    references.add_name(container, operator, ReferenceKind.funding_source, "Basic Need")
    admin_email, admin_roles = USERS["admin"]
    accounts.add_user(container.sessions, operator, admin_email, admin_roles, PASSWORD)
    admin = Principal.user(admin_email, admin_roles)
    tokens = {}
    for role, (email, roles) in USERS.items():
        if role != "admin":
            accounts.add_user(container.sessions, admin, email, roles, PASSWORD)
        issued = accounts.issue_token(container.sessions, admin, email, dt.timedelta(days=1))
        tokens[role] = issued.token
    return tokens
