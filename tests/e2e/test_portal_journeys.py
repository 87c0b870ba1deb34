"""The three journeys of the portal in a real browser: a project manager on a phone, a head
of capital at a desk, finance downloading reports."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any

import openpyxl
from pypdf import PdfReader

from capital.application import reporting
from capital.application.publishing import publish
from events import new_event
from services.reporter.model import ReportKind
from tests.e2e.conftest import Portal, check_page, sign_in
from tests.portal import PEOPLE, PM_SCHEME


def test_a_project_manager_on_a_phone_records_a_slip_and_sees_the_scheme_turn_red(
    portal: Portal, phone: Any
):
    sign_in(phone, portal, PEOPLE.project_manager)
    phone.wait_for_url(re.compile(r".*/schemes\?mine=1"))
    check_page(phone, "my-schemes")
    phone.get_by_role("link", name="Show all schemes").click()
    check_page(phone, "board")
    assert phone.locator("#board-results tbody tr").count() > 30
    # Red with no slip: never revised, past the completion date the register gave.
    never_revised = phone.locator("#board-results tbody tr", has_text="CYPE-010")
    assert re.search(r"Red\s+Overdue by 303 days\s+0", never_revised.inner_text())
    phone.go_back()
    phone.get_by_role("link", name=PM_SCHEME).click()
    check_page(phone, "scheme-before")
    assert phone.locator("#rag-reason-overall").is_visible()
    assert "Green" in phone.locator("#rag").inner_text()

    phone.get_by_role("link", name="Anticipated completion revised").click()
    check_page(phone, "revise-completion")
    reason = "Steel deck corroded under the membrane: replacement sheets on order"
    phone.get_by_label("Why has the date changed?").fill(reason)
    revised = phone.get_by_role("group", name="New anticipated completion date")
    revised.get_by_label("Day").fill("31")
    revised.get_by_label("Month").fill("2")
    revised.get_by_label("Year").fill("2025")
    phone.get_by_role("button", name="Save").click()

    summary = phone.locator(".govuk-error-summary")
    assert "New anticipated completion date must be a real date" in summary.inner_text()
    assert "must be a real date" in phone.locator("#anticipated_completion-error").inner_text()
    assert phone.get_by_label("Why has the date changed?").input_value() == reason
    assert revised.get_by_label("Year").input_value() == "2025"
    check_page(phone, "revise-completion-error")

    six_weeks_later = dt.date(2024, 12, 20) + dt.timedelta(weeks=6)
    revised.get_by_label("Day").fill(str(six_weeks_later.day))
    revised.get_by_label("Month").fill(str(six_weeks_later.month))
    phone.get_by_role("button", name="Save").click()

    phone.wait_for_url(re.compile(rf".*/schemes/{PM_SCHEME}\?recorded=.*"))
    banner = phone.locator(".govuk-notification-banner--success").inner_text()
    assert "The scheme is now red" in banner
    assert "The head of capital was alerted" in banner
    assert "Red" in phone.locator("#rag").inner_text()
    assert "Slipped 42 days" in phone.locator("#rag-reason-programme").inner_text()
    latest = phone.locator("#timeline .moj-timeline__item").first.inner_text()
    assert reason in latest and PEOPLE.project_manager in latest
    check_page(phone, "scheme-after-slip")


def test_a_head_of_capital_acknowledges_the_slip_and_overrides_a_red_scheme(
    portal: Portal, desktop: Any
):
    slip = new_event(
        "completion.revised", PM_SCHEME, dt.date(2024, 7, 29),
        {"anticipated_completion": "2025-01-31", "reason": "Steel deck corroded"},
    )  # fmt: skip
    assert publish(portal.container, [(1, slip)], portal.acting_as(PEOPLE.project_manager)).ok

    sign_in(desktop, portal, PEOPLE.head_of_capital)
    desktop.get_by_role("link", name="Alerts").click()
    desktop.get_by_label("Only alerts not yet acknowledged").check()
    desktop.get_by_role("button", name="Show alerts").click()
    check_page(desktop, "alerts-unacknowledged")
    card = desktop.locator(".govuk-summary-card", has_text=PM_SCHEME)
    assert card.count() == 1
    card.get_by_label(re.compile("Acknowledge")).check()
    desktop.get_by_role("button", name="Acknowledge selected alerts").first.click()
    assert "1 alert acknowledged" in desktop.locator(".govuk-notification-banner").inner_text()
    assert desktop.locator(".govuk-summary-card", has_text=PM_SCHEME).count() == 0
    check_page(desktop, "alerts-acknowledged")

    desktop.get_by_role("link", name="Board").click()
    desktop.get_by_label("Red").check()
    desktop.get_by_role("button", name="Apply filters").click()
    desktop.wait_for_url(re.compile(r".*rag=red.*"))
    rows = desktop.locator("#board-results tbody tr")
    assert rows.count() > 1
    assert all(tag == "Red" for tag in rows.locator(".govuk-tag").all_inner_texts())
    assert rows.locator(".app-rag-reason").count() == rows.count()
    check_page(desktop, "board-red")

    rows.first.get_by_role("link").click()
    scheme_id = desktop.locator(".govuk-caption-l").inner_text()
    desktop.get_by_role("link", name="Override a RAG").click()
    desktop.get_by_label("Overall").check()
    desktop.get_by_label("Amber").check()
    why = "Contractor has accepted liquidated damages; the board agreed the new date"
    desktop.get_by_label("Why?").fill(why)
    check_page(desktop, "override-rag")
    desktop.get_by_role("button", name="Save").click()
    desktop.wait_for_url(re.compile(rf".*/schemes/{scheme_id}\?recorded=.*"))
    assert "The scheme is now amber" in desktop.locator(".govuk-notification-banner").inner_text()
    assert why in desktop.locator("#rag-reason-overall").inner_text()
    check_page(desktop, "scheme-overridden")


def test_finance_downloads_the_budget_workbook_and_the_pack_with_the_right_totals(
    portal: Portal, desktop: Any
):
    sign_in(desktop, portal, PEOPLE.finance)
    desktop.wait_for_url(re.compile(r".*/reports"))
    check_page(desktop, "reports")
    figures = reporting.budget_on_screen(portal.container, portal.acting_as(PEOPLE.finance)).report
    shown_total = desktop.locator("#total-budget").inner_text()
    assert shown_total == f"£{figures.total.budget:,.0f}"

    with desktop.expect_download() as workbook_download:
        desktop.get_by_role("link", name=re.compile(r"Budget by funding source \(Excel")).click()
    assert workbook_download.value.suggested_filename.endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(workbook_download.value.path().read_bytes()))
    cells = [row for sheet in workbook for row in sheet.iter_rows(values_only=True)]
    total_row = next(row for row in cells if row and row[0] == "Total")
    assert Decimal(str(figures.total.budget)) in {
        Decimal(str(v)) for v in total_row if isinstance(v, int | float | Decimal)
    }

    with desktop.expect_download() as pack_download:
        desktop.get_by_role("link", name="Committee pack (PDF)", exact=True).click()
    pdf = PdfReader(io.BytesIO(pack_download.value.path().read_bytes()))
    assert len(pdf.pages) >= 2
    pack = reporting.report(portal.container, portal.acting_as(PEOPLE.finance), ReportKind.pack)
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert f"£{pack.budget_by_source.total.budget:,.0f}" in text.replace("\n", " ")

    # The position at an earlier date, by everything known now; the downloads follow it.
    desktop.get_by_label("Position at").fill("1/1/2018")
    desktop.get_by_role("button", name="Show figures").click()
    assert desktop.locator("#position").inner_text().startswith("Position at 1 Jan 2018, as known")
    assert desktop.locator("#total-budget").inner_text() == "£0"
    csv_link = desktop.get_by_role("link", name="Budget by funding source (CSV)")
    assert "as_at=2018-01-01" in (csv_link.get_attribute("href") or "")
    check_page(desktop, "reports-as-at")
    desktop.get_by_label("As known on").fill("31/2/2024")
    desktop.get_by_role("button", name="Show figures").click()
    assert "Date must be a real date" in desktop.locator(".govuk-error-summary").inner_text()


def test_finance_looks_at_the_board_and_a_scheme_as_they_stood_at_the_year_end(
    portal: Portal, phone: Any, desktop: Any
):
    for page in (phone, desktop):
        sign_in(page, portal, PEOPLE.finance)
        page.goto(f"{portal.url}/schemes?as_at=31/3/2024")
        position = page.locator("#board-position").inner_text()
        assert position.startswith("Position at 31 Mar 2024, as known")
        check_page(page, "board-as-at")
        page.locator("#board-results tbody tr").first.get_by_role("link").click()
        assert "as_at=2024-03-31" in page.url
        assert page.locator("#scheme-position").inner_text().startswith("Position at 31 Mar 2024")
        check_page(page, "scheme-as-at")
        page.goto(f"{portal.url}/schemes?known_on=31/2/2024")
        assert "Date must be a real date" in page.locator(".govuk-error-summary").inner_text()
        check_page(page, "board-date-error")
        page.goto(f"{portal.url}/reports?as_at=31/3/2024&since=1/3/2024")
        check_page(page, "reports-position-and-since")
