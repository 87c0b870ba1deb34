"""The portal in a real browser: `capital serve`'s app on uvicorn on 127.0.0.1, a SQLite
database seeded from the council's real register, users of each role, and Debian's
Chromium driven by Playwright. Screenshots go to test-artifacts/screenshots/; every page a
journey visits is checked with axe-core."""

from __future__ import annotations

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
from capital.application.principal import Principal
from capital.bootstrap import Container, bootstrap
from capital.settings import Settings
from capital.web.assets import AXE
from tests.conftest import REPO, require_service
from tests.portal import PASSWORD, TODAY, seed

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class Portal:
    url: str
    container: Container

    def acting_as(self, email: str) -> Principal:
        """The command line's operator acting as a user (their roles apply)."""
        return accounts.operator(self.container.sessions, "e2e", email)


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'portal.db'}", today=TODAY)
    container = bootstrap(settings)
    seed(container)
    server = uvicorn.Server(
        # log_config=None: the server must not reconfigure the test process's logging.
        uvicorn.Config(
            create_app(container), host="127.0.0.1", port=0, log_level="warning", log_config=None
        )
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


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = "phone" if page.viewport_size["width"] < 600 else "desktop"
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{size}.png"), full_page=True)


def check_page(page: Any, name: str) -> None:
    """Save a screenshot of the page and fail on any serious or critical accessibility
    violation axe-core finds in it."""
    screenshot(page, name)
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {runOnly: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help, "
        "nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"
    )
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    assert not serious, f"{name}: accessibility violations\n{json.dumps(serious, indent=2)}"


def sign_in(page: Any, portal: Portal, email: str, javascript: bool = True) -> None:
    page.goto(f"{portal.url}/sign-in")
    if javascript:  # axe-core runs in the page
        check_page(page, "sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/(schemes|reports).*"))


@pytest.fixture
def without_javascript(browser: Any) -> Iterator[Any]:
    """A phone whose browser runs no JavaScript: every page must still work."""
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    yield context.new_page()
    context.close()
