"""An administrator's pages, and the portal with JavaScript turned off."""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.conftest import Portal, check_page, screenshot, sign_in
from tests.portal import PEOPLE, PM_SCHEME


def test_an_administrator_manages_users_tokens_and_webhooks(portal: Portal, desktop: Any):
    sign_in(desktop, portal, PEOPLE.admin)
    desktop.get_by_role("link", name="Users").click()
    check_page(desktop, "admin-users")
    desktop.get_by_label("Email address").fill("new.pm@council.gov.uk")
    desktop.get_by_label("Project manager").check()
    desktop.get_by_role("button", name="Save user").click()
    assert (
        "new.pm@council.gov.uk saved" in desktop.locator(".govuk-notification-banner").inner_text()
    )
    assert "new.pm@council.gov.uk" in desktop.locator("table").inner_text()
    desktop.get_by_role("link", name="Change roles of new.pm@council.gov.uk").click()
    assert desktop.get_by_label("Email address").input_value() == "new.pm@council.gov.uk"
    assert desktop.get_by_label("Project manager").is_checked()
    desktop.get_by_label("Finance").check()
    desktop.get_by_role("button", name="Save user").click()
    row = desktop.locator("tr", has_text="new.pm@council.gov.uk").inner_text()
    assert "finance, project manager" in row

    desktop.get_by_role("link", name="Tokens").click()
    desktop.get_by_label("For user (email address)").fill("new.pm@council.gov.uk")
    desktop.get_by_role("button", name="Issue token").click()
    token = desktop.locator("#issued-token").inner_text()
    assert re.fullmatch(r"cap\.[0-9a-f]+\.\S+", token)
    check_page(desktop, "admin-token-issued")
    token_id = token.split(".")[1]
    desktop.goto(f"{portal.url}/admin/tokens")
    assert token not in desktop.content()
    desktop.get_by_role("button", name=f"Revoke {token_id}").click()
    assert f"Token {token_id} revoked" in desktop.locator(".govuk-notification-banner").inner_text()

    desktop.get_by_role("link", name="Subscribers").click()
    desktop.get_by_label("Webhook (Teams or Slack)").check()
    secret = "https://council.webhook.office.com/webhookb2/abc/IncomingWebhook/s3cr3tpath"
    desktop.get_by_label("Email address or webhook URL").fill(secret)
    desktop.get_by_role("button", name="Add subscriber").click()
    assert "Subscriber added" in desktop.locator(".govuk-notification-banner").inner_text()
    assert "s3cr3tpath" not in desktop.content()
    assert "council.webhook.office.com" in desktop.locator("table").inner_text()
    check_page(desktop, "admin-subscribers")


def test_without_javascript_a_project_manager_records_progress_and_filters_the_board(
    portal: Portal, without_javascript: Any
):
    page = without_javascript
    sign_in(page, portal, PEOPLE.project_manager, javascript=False)
    page.goto(f"{portal.url}/schemes/{PM_SCHEME}/record/progress")
    page.get_by_label("What has happened on site?").fill("Roof membrane stripped; deck exposed")
    page.get_by_label("Percent complete").fill("40")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(rf".*/schemes/{PM_SCHEME}\?recorded=.*"))
    assert "Progress recorded" in page.locator(".govuk-notification-banner").inner_text()
    assert "40%" in page.locator("#timeline").inner_text()

    page.goto(f"{portal.url}/schemes")
    page.get_by_label("Red").check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r".*rag=red.*"))
    tags = page.locator("#board-results tbody .govuk-tag").all_inner_texts()
    assert tags and set(tags) == {"Red"}
    screenshot(page, "board-red-no-javascript")
