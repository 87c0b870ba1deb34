"""Site updates and decisions through the portal's forms, as a browser without JavaScript
sends them: each becomes its event, attributed to the person signed in."""

from __future__ import annotations

from tests.integration.test_portal_security import signed_in
from tests.portal import PEOPLE, PM_SCHEME

TODAY_FIELDS = {"occurred_on-day": "29", "occurred_on-month": "7", "occurred_on-year": "2024"}


def record(browser, csrf: str, form: str, **answers: str):
    return browser.post(
        f"/schemes/{PM_SCHEME}/record/{form}",
        data={**TODAY_FIELDS, **answers, "csrf_token": csrf},
    )


def test_a_snag_raised_is_listed_open_and_offered_for_clearing_until_cleared(seeded):
    browser, csrf = signed_in(seeded, PEOPLE.project_manager)

    raised = record(browser, csrf, "snag-raised", snag_id="S-014",
                    description="Gutter joint leaking over the hall door")  # fmt: skip
    offered = browser.get(f"/schemes/{PM_SCHEME}/record/snag-cleared").text
    cleared = record(browser, csrf, "snag-cleared", snag_id="S-014")

    assert "Snag recorded" in raised.text and "Gutter joint leaking" in raised.text
    assert 'value="S-014"' in offered
    assert "Snag cleared." in cleared.text
    assert "No open snags." in cleared.text


def test_finance_records_a_budget_change_and_the_budget_follows(seeded):
    browser, csrf = signed_in(seeded, PEOPLE.finance)

    changed = record(browser, csrf, "budget-changed", funding_source="Basic Need",
                     amount="-50000", reason="Scope reduced to the main hall")  # fmt: skip

    assert "Budget change recorded" in changed.text
    assert "£800,000" in changed.text
    assert "by finance@council.gov.uk" in changed.text


def test_a_date_in_the_future_is_refused_next_to_the_date(seeded):
    browser, csrf = signed_in(seeded, PEOPLE.project_manager)

    refused = browser.post(
        f"/schemes/{PM_SCHEME}/record/started",
        data={"occurred_on-day": "1", "occurred_on-month": "8", "occurred_on-year": "2024",
              "csrf_token": csrf},
    )  # fmt: skip

    assert refused.status_code == 400
    assert "The date 2024-08-01 is in the future (today is 2024-07-29)" in refused.text
    assert 'id="occurred_on-error"' in refused.text


def test_finance_gets_the_changes_since_the_last_committee_from_the_reports_page(seeded):
    browser, csrf = signed_in(seeded, PEOPLE.finance)
    record(browser, csrf, "budget-changed", funding_source="Basic Need",
           amount="-50000", reason="Scope reduced to the main hall")  # fmt: skip

    reports = browser.get("/reports", params={"since": "28/7/2024"}).text
    link = 'href="/api/reports/changes?format=html&from=2024-07-28"'
    assert link in reports and "Changes since 28 July 2024 (HTML)" in reports
    assert "/api/reports/pack?format=pdf&amp;since=2024-07-28" in reports
    changes = browser.get("/api/reports/changes?format=html&from=2024-07-28").text
    assert "1 scheme added" in changes and "Sports hall roof replacement" in changes

    refused = browser.get("/reports", params={"since": "29/7/2024"}).text
    assert "The last committee must be before the date of the figures" in refused
    assert "/api/reports/changes" not in refused


def test_a_slip_recorded_weeks_after_it_happened_is_for_the_digest_and_says_so(seeded):
    browser, csrf = signed_in(seeded, PEOPLE.project_manager)

    weeks_ago = {"occurred_on-day": "1", "occurred_on-month": "7", "occurred_on-year": "2024"}
    late = browser.post(
        f"/schemes/{PM_SCHEME}/record/completion-revised",
        data={**weeks_ago, "anticipated_completion-day": "28", "anticipated_completion-month":
              "2", "anticipated_completion-year": "2025", "reason": "Steel delivery moved",
              "csrf_token": csrf},
    )  # fmt: skip

    assert "Anticipated completion revised" in late.text
    assert "will read it in the next daily digest" in late.text
    assert "CYPE-PM-01 slipped 70 days" in late.text
    assert "The head of capital was alerted" not in late.text
