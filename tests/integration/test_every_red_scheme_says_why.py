"""Every red or amber scheme shows why, everywhere: the command line's board, the API, the
portal's board (table and phone cards) and scheme page, the programme report and the pack.

The council's real register as imported on the pack's date, beside a scheme registered by
events and never revised, past its baseline: red with 0 days' slippage, overdue by 29 days.
A scheme never revised reads the same whether it came from the register (no original date,
or an original equal to the anticipated one) or from events: its expected completion is
its baseline, marked as such."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from capital.api import create_app
from capital.application import accounts, reporting
from capital.application.publishing import publish
from capital.bootstrap import Container, bootstrap
from capital.cli import app as cli
from capital.settings import Settings
from events import Rag, new_event
from services.reporter.model import CommitteePack, ProgrammeReport, ReportKind
from services.reporter.render import Format, render
from tests.integration.test_portal_security import signed_in
from tests.portal import PEOPLE, TODAY, seed

OVERDUE = "CYPE-PM-02"
"""Registered by events, baseline 30 Jun 2024, never revised: 29 days overdue on TODAY."""
FROM_REGISTER = {
    "CYPE-010": ("2023-09-30", 303),  # no original completion: the anticipated one is both
    "CYPE-008": ("2022-08-19", 710),  # original and anticipated completion the same
}
REVISED = "CYPE-018"  # original 28 Oct 2022, anticipated 6 Jan 2023


def never_revised_scheme() -> list[Any]:
    registered = new_event(
        "scheme.registered", OVERDUE, dt.date(2024, 3, 1),
        {
            "title": "Kitchen refit, Hill Primary School",
            "budget": "120000",
            "funding": [{"source": "Basic Need", "amount": "120000"}],
            "baseline_completion": "2024-06-30",
            "project_manager": PEOPLE.project_manager,
        },
    )  # fmt: skip
    return [registered, new_event("scheme.started", OVERDUE, dt.date(2024, 4, 2))]


@pytest.fixture(scope="module")
def deployment(module_database_url: str) -> Iterator[Container]:
    container = bootstrap(Settings(database_url=module_database_url, today=TODAY))
    try:
        seed(container)
        admin = accounts.operator(container.sessions, "tests", PEOPLE.admin)
        report = publish(container, list(enumerate(never_revised_scheme())), admin)
        assert report.ok, report.errors
        yield container
    finally:
        container.close()


@pytest.fixture
def capital(deployment: Container, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CAPITAL_TODAY", TODAY.isoformat())
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.delenv("CAPITAL_ACTOR", raising=False)
    url = str(deployment.settings.database_url)

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, ["--database-url", url, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout

    return run


def text_of(page: str) -> str:
    """What a reader sees of some HTML: its text, one space between words."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_the_board_rows_say_why_for_every_red_and_amber_scheme(capital) -> None:
    rows = {row["scheme_id"]: row for row in json.loads(capital("schemes", "--format", "json"))}

    assert len(rows) == 43
    unexplained = [
        scheme_id
        for scheme_id, row in rows.items()
        if row["overall_rag"] != Rag.green.value and not row["concerns"]
    ]
    assert unexplained == []
    overdue = rows[OVERDUE]
    assert (overdue["overall_rag"], overdue["slippage_days"]) == ("red", 0)
    assert overdue["concerns"] == ["overdue by 29 days"]
    assert overdue["reasons"]["programme"] == "overdue by 29 days"
    assert (overdue["expected_completion"], overdue["expected_is_baseline"]) == (
        "2024-06-30",
        True,
    )
    assert overdue["days_overdue"] == 29
    assert rows[REVISED]["expected_is_baseline"] is False


def test_a_scheme_never_revised_reads_the_same_from_the_register_as_from_events(
    capital,
) -> None:
    rows = {row["scheme_id"]: row for row in json.loads(capital("schemes", "--format", "json"))}

    def as_read(scheme_id: str) -> tuple[Any, ...]:
        row = rows[scheme_id]
        return (
            row["overall_rag"],
            row["slippage_days"],
            row["expected_is_baseline"],
            row["expected_completion"] == row["baseline_completion"],
            row["concerns"],
        )

    assert as_read(OVERDUE) == ("red", 0, True, True, ["overdue by 29 days"])
    for scheme_id, (baseline, late) in FROM_REGISTER.items():
        assert rows[scheme_id]["expected_completion"] == baseline
        assert as_read(scheme_id) == ("red", 0, True, True, [f"overdue by {late} days"])


def test_the_command_line_board_shows_why_and_marks_the_baseline(capital) -> None:
    board = capital("schemes")

    [line] = [line for line in board.splitlines() if OVERDUE in line]
    assert "2024-06-30 (baseline)" in line
    assert "overdue by 29 days" in line
    [revised] = [line for line in board.splitlines() if REVISED in line]
    assert "2023-01-06 " in revised and "2023-01-06 (baseline)" not in revised


def test_the_api_row_is_the_command_lines_and_says_why(deployment: Container, capital) -> None:
    admin = accounts.operator(deployment.sessions, "tests", PEOPLE.admin)
    issued = accounts.issue_token(deployment.sessions, admin, PEOPLE.finance, dt.timedelta(hours=1))
    with TestClient(create_app(deployment)) as client:
        response = client.get("/api/schemes", headers={"Authorization": f"Bearer {issued.token}"})
        record = client.get(
            f"/api/schemes/{OVERDUE}", headers={"Authorization": f"Bearer {issued.token}"}
        ).json()["scheme"]

    assert response.status_code == 200
    rows = {row["scheme_id"]: row for row in response.json()["data"]}
    assert rows[OVERDUE]["concerns"] == ["overdue by 29 days"]
    assert rows == {
        row["scheme_id"]: row for row in json.loads(capital("schemes", "--format", "json"))
    }
    assert record["reasons"]["overall"] == "overdue by 29 days"
    assert record["rag_bands"] == {"programme": "past its expected completion is red"}


def test_the_portal_board_says_why_on_a_desk_and_on_a_phone(deployment: Container) -> None:
    browser, _ = signed_in(deployment, PEOPLE.head_of_capital)
    board = browser.get("/schemes").text
    [row] = [row for row in board.split("<tr") if f"/schemes/{OVERDUE}" in row]
    assert "Overdue by 29 days" in text_of(row)
    assert "30 Jun 2024 (baseline)" in text_of(row)
    for scheme_id, (_, late) in FROM_REGISTER.items():
        [row] = [row for row in board.split("<tr") if f"/schemes/{scheme_id}" in row]
        assert f"Overdue by {late} days" in text_of(row)
        assert "(baseline)" in text_of(row)

    manager, _ = signed_in(deployment, PEOPLE.project_manager)
    cards = manager.get("/schemes?mine=1").text
    [card] = [card for card in cards.split("<li>") if f"/schemes/{OVERDUE}" in card]
    assert "RAG Red Overdue by 29 days" in text_of(card)
    assert "Completion 30 June 2024 (baseline)" in text_of(card)


def test_the_portal_scheme_page_says_why_and_where_red_starts(deployment: Container) -> None:
    browser, _ = signed_in(deployment, PEOPLE.head_of_capital)
    page = text_of(browser.get(f"/schemes/{OVERDUE}").text)

    assert "Programme Red Overdue by 29 days (past its expected completion is red)" in page
    assert "Expected completion 30 June 2024 (baseline)" in page


def programme_report(container: Container) -> ProgrammeReport:
    principal = accounts.operator(container.sessions, "tests", PEOPLE.head_of_capital)
    built = reporting.report(container, principal, ReportKind.programme)
    assert isinstance(built, ProgrammeReport)
    return built


def test_the_programme_report_gives_every_red_and_amber_scheme_a_reason(
    deployment: Container,
) -> None:
    concerns = {c.scheme_id: c for c in programme_report(deployment).concerns}

    assert len(concerns) > 30
    assert [scheme_id for scheme_id, c in concerns.items() if not c.reasons] == []
    assert concerns[OVERDUE].reasons == (
        "Overdue by 29 days: baseline completion 30 Jun 2024 has passed",
    )
    assert concerns["CYPE-010"].reasons == (
        "Overdue by 303 days: baseline completion 30 Sep 2023 has passed",
    )
    assert concerns[REVISED].reasons[0] == (
        "Overdue by 570 days: anticipated completion 06 Jan 2023 has passed"
    )


def test_the_pack_card_of_a_red_scheme_says_why(deployment: Container) -> None:
    principal = accounts.operator(deployment.sessions, "tests", PEOPLE.head_of_capital)
    pack = reporting.report(deployment, principal, ReportKind.pack)
    assert isinstance(pack, CommitteePack)
    page = str(render(pack, Format.html))

    card = page.split(f'id="scheme-{OVERDUE}"')[1].split("</section>")[0]
    assert "Anticipated completion date 30 Jun 2024 (baseline) (passed 29 days ago)" in text_of(
        card
    )
    assert "RAG Status red Overdue by 29 days" in text_of(card)
    assert "Programme RAG red Overdue by 29 days" in text_of(card)
