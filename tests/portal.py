"""A portal deployment to test against: the council's real register, users of each role
with passwords, and one scheme a project manager runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from capital.application import accounts, references
from capital.application.importing import import_register
from capital.application.publishing import publish
from capital.bootstrap import Container
from capital.cli.demo import register_path
from events import Envelope, new_event
from programme.permissions import Role
from programme.reference import ReferenceKind

TODAY = dt.date(2024, 7, 29)
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class People:
    admin: str = "admin@council.gov.uk"
    project_manager: str = "sam.okafor@council.gov.uk"
    head_of_capital: str = "ana.lee@council.gov.uk"
    finance: str = "finance@council.gov.uk"


PEOPLE = People()
# A scheme the project manager runs, added beside the register's (the register names no
# project managers): green until its completion slips.
PM_SCHEME = "CYPE-PM-01"


ROLES = {
    PEOPLE.admin: Role.admin,
    PEOPLE.project_manager: Role.project_manager,
    PEOPLE.head_of_capital: Role.head_of_capital,
    PEOPLE.finance: Role.finance,
}


def project_managers_scheme() -> list[Envelope]:
    """The scheme the project manager runs, green until its completion slips."""
    registered = new_event(
        "scheme.registered", PM_SCHEME, dt.date(2024, 4, 2),
        {
            "title": "Sports hall roof replacement, Castle Primary School",
            "budget": "850000",
            "funding": [{"source": "Basic Need", "amount": "850000"}],
            "baseline_start": "2024-05-01",
            "baseline_completion": "2024-12-20",
            "project_manager": PEOPLE.project_manager,
            "programme": "Schools condition",
            "contractor": "Midland Roofing Ltd",
        },
    )  # fmt: skip
    return [registered, new_event("scheme.started", PM_SCHEME, dt.date(2024, 5, 1))]


def seed(container: Container, register: bool = True) -> None:
    """Users of each role, the project manager's scheme and (unless not wanted) the council's
    register."""
    if register:
        operator = accounts.operator(container.sessions, "e2e")
        import_register(
            container, register_path(), sheet=None, recorded_on=TODAY, principal=operator
        )
    admin = accounts.operator(container.sessions, "e2e", PEOPLE.admin)
    for email, role in ROLES.items():
        accounts.add_user(container.sessions, admin, email, [role], PASSWORD)
    # The project manager's scheme is funded from a source the register does not use.
    references.add_name(container, admin, ReferenceKind.funding_source, "Basic Need")
    report = publish(container, list(enumerate(project_managers_scheme())), admin)
    assert report.ok, report.errors
