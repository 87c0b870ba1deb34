"""Reading the portal's site-update forms: GOV.UK date inputs and their messages."""

from __future__ import annotations

import datetime as dt

import pytest

from capital.web.forms import BY_SLUG, read_answers
from events import EventType, new_event
from programme.permissions import SITE_UPDATES

REVISE = BY_SLUG["completion-revised"]
AGREED = {"occurred_on-day": "29", "occurred_on-month": "7", "occurred_on-year": "2024"}


def revised(day: str, month: str, year: str, reason: str = "Asbestos found") -> dict[str, str]:
    return {
        **AGREED,
        "anticipated_completion-day": day,
        "anticipated_completion-month": month,
        "anticipated_completion-year": year,
        "reason": reason,
    }


def test_a_complete_form_reads_as_the_events_payload():
    answers = read_answers(REVISE, revised("31", "1", "2025"))

    assert answers.errors == {}
    assert answers.occurred_on == dt.date(2024, 7, 29)
    envelope = new_event(REVISE.event_type, "S-1", answers.occurred_on, answers.payload)
    assert envelope.payload.anticipated_completion == dt.date(2025, 1, 31)


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("31", "2", "2025", "New anticipated completion date must be a real date"),
        ("", "", "", "Enter new anticipated completion date"),
        ("12", "", "2025", "New anticipated completion date must include a month"),
        ("", "3", "", "New anticipated completion date must include a day and year"),
        ("1", "3", "25", "New anticipated completion date must be a real date"),
        ("1", "March", "2025", "New anticipated completion date must be a real date"),
    ],
)
def test_a_mistyped_date_gets_the_design_systems_message(day, month, year, message):
    answers = read_answers(REVISE, revised(day, month, year))

    assert answers.errors == {"anticipated_completion": message}
    assert answers.typed["reason"] == "Asbestos found"
    assert answers.typed["anticipated_completion-year"] == year


def test_the_reason_for_a_revised_date_is_required():
    answers = read_answers(REVISE, revised("31", "1", "2025", reason="   "))

    assert answers.errors == {"reason": "Enter why the date has changed"}


def test_percent_complete_is_optional_but_must_be_a_percentage():
    progress = BY_SLUG["progress"]

    assert read_answers(progress, {**AGREED, "note": "Roof on"}).errors == {}
    assert read_answers(
        progress, {**AGREED, "note": "Roof on", "percent_complete": "120"}
    ).errors == {"percent_complete": "Percent complete must be a whole number from 0 to 100"}


def test_lifting_an_override_sends_no_value():
    override = BY_SLUG["rag-override"]
    answers = read_answers(override, {**AGREED, "which": "overall", "value": "lift", "reason": "x"})

    assert answers.payload == {"which": "overall", "value": None, "reason": "x"}


def test_there_is_a_form_for_every_site_update_a_project_manager_may_record():
    assert {form.event_type for form in BY_SLUG.values()} >= SITE_UPDATES
    assert {EventType.rag_overridden, EventType.budget_changed} <= {
        form.event_type for form in BY_SLUG.values()
    }


def test_a_budget_change_may_take_money_away_but_must_be_money():
    change = BY_SLUG["budget-changed"]
    sent = {**AGREED, "funding_source": "CCIP6", "reason": "Scope reduced"}

    taken = read_answers(change, {**sent, "amount": "-25,000"})
    garbled = read_answers(change, {**sent, "amount": "lots"})

    assert taken.errors == {} and taken.payload["amount"] == "-25000"
    assert garbled.errors == {
        "amount": "Change to the budget must be an amount in pounds, like 25000 or -25000"
    }
