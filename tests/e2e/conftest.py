"""The portal in a real browser: `capital serve`'s app on uvicorn on 127.0.0.1, a SQLite
database seeded from the council's real register, users of each role, and Debian's
Chromium driven by Playwright. Screenshots go to test-artifacts/screenshots/; every page a
journey visits is checked with axe-core."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from capital.api import create_app
from capital.application import accounts
from capital.application.importing import import_register
from capital.application.principal import Principal
from capital.application.publishing import publish
from capital.bootstrap import Container, bootstrap
from capital.cli.demo import register_path
from capital.settings import Settings
from capital.web.assets import AXE
from events import new_event
from programme.permissions import Role
from tests.conftest import REPO, require_service

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
TODAY = dt.date(2024, 7, 29)
PASSWORD = "correct horse battery staple"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


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


@dataclass
class Portal:
    url: str
    container: Container

    def acting_as(self, email: str) -> Principal:
        """The command line's operator acting as a user (their roles apply)."""
        return accounts.operator(self.container.sessions, "e2e", email)


def seed(container: Container) -> None:
    operator = accounts.operator(container.sessions, "e2e")
    import_register(container, register_path(), sheet=None, recorded_on=TODAY, principal=operator)
    roles = {
        PEOPLE.admin: Role.admin,
        PEOPLE.project_manager: Role.project_manager,
        PEOPLE.head_of_capital: Role.head_of_capital,
        PEOPLE.finance: Role.finance,
    }
    admin = accounts.operator(container.sessions, "e2e", PEOPLE.admin)
    for email, role in roles.items():
        accounts.add_user(container.sessions, admin, email, [role], PASSWORD)
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
    started = new_event("scheme.started", PM_SCHEME, dt.date(2024, 5, 1))
    report = publish(container, [(1, registered), (2, started)], admin)
    assert report.ok, report.errors


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'portal.db'}", today=TODAY)
    container = bootstrap(settings)
    seed(container)
    server = uvicorn.Server(
        uvicorn.Config(create_app(container), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the portal did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Portal(f"http://127.0.0.1:{port}", container)
    finally:
        server.should_exit = True
        thread.join()
        container.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require_service(str(CHROMIUM) if CHROMIUM.exists() else None, "chromium (apt)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, accept_downloads=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    yield context.new_page()
    context.close()


def check_page(page: Any, name: str) -> None:
    """Save a screenshot of the page and fail on any serious or critical accessibility
    violation axe-core finds in it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = "phone" if page.viewport_size["width"] < 600 else "desktop"
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{size}.png"), full_page=True)
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {runOnly: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help, "
        "nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"
    )
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    assert not serious, f"{name}: accessibility violations\n{json.dumps(serious, indent=2)}"


def sign_in(page: Any, portal: Portal, email: str) -> None:
    page.goto(f"{portal.url}/sign-in")
    check_page(page, "sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/(schemes|reports).*"))
