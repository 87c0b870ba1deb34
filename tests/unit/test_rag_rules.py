"""The default RAG rules of the design, boundaries included."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from events import Rag
from programme.rag import (
    RagPolicy,
    budget_rag,
    days_overdue,
    programme_rag,
    slippage_days,
    snapshot,
)
from programme.scheme import fold
from tests.builders import day, event, registered

POLICY = RagPolicy()
BEFORE_ANY_DATE = day("2024-01-02")


def revised_to(anticipated: str, baseline: str = "2024-06-30"):
    return fold(
        [
            registered(baseline_completion=baseline),
            event(
                "completion.revised",
                "2024-02-01",
                anticipated_completion=anticipated,
                reason="contractor programme",
            ),
        ]
    )


@pytest.mark.parametrize(
    ("anticipated", "slipped", "rag"),
    [
        ("2024-06-20", -10, Rag.green),
        ("2024-06-30", 0, Rag.green),
        ("2024-07-01", 1, Rag.amber),
        ("2024-07-28", 28, Rag.amber),
        ("2024-07-29", 29, Rag.red),
    ],
)
def test_programme_rag_follows_slippage_against_baseline(anticipated, slipped, rag):
    state = revised_to(anticipated)
    assert slippage_days(state) == slipped
    assert programme_rag(state, BEFORE_ANY_DATE, POLICY) is rag


def test_turns_red_when_today_is_past_the_anticipated_completion_and_not_complete():
    state = revised_to("2024-06-30")
    assert programme_rag(state, day("2024-06-30"), POLICY) is Rag.green
    assert programme_rag(state, day("2024-07-01"), POLICY) is Rag.red
    assert snapshot(state, day("2024-07-01"), POLICY).overdue


def test_a_completed_scheme_is_never_overdue_and_slips_by_its_actual_completion():
    state = fold(
        [
            registered(baseline_completion="2024-06-30"),
            event("scheme.started", "2024-02-01"),
            event("scheme.completed", "2024-07-10"),
        ]
    )
    assert slippage_days(state) == 10
    assert programme_rag(state, day("2025-01-01"), POLICY) is Rag.amber
    assert not snapshot(state, day("2025-01-01"), POLICY).overdue


def test_the_first_anticipated_date_becomes_the_baseline_when_none_was_registered():
    state = fold(
        [
            registered(baseline_completion=None),
            event(
                "completion.revised",
                "2024-02-01",
                anticipated_completion="2024-08-01",
                reason="programme agreed",
            ),
            event(
                "completion.revised",
                "2024-05-01",
                anticipated_completion="2024-08-21",
                reason="late steel",
            ),
        ]
    )
    assert state.baseline_completion == day("2024-08-01")
    assert slippage_days(state) == 20


def test_rebaselining_replaces_the_baseline():
    state = fold(
        [
            registered(baseline_completion="2024-06-30"),
            event(
                "completion.revised",
                "2024-02-01",
                anticipated_completion="2024-09-30",
                reason="scope added",
            ),
            event(
                "scheme.rebaselined",
                "2024-02-10",
                baseline_completion="2024-09-15",
                reason="cabinet approved the added scope",
            ),
        ]
    )
    assert slippage_days(state) == 15
    assert programme_rag(state, BEFORE_ANY_DATE, POLICY) is Rag.amber


def test_no_dates_means_nothing_to_judge_the_programme_on():
    state = fold([registered(baseline_completion=None)])
    assert slippage_days(state) is None
    assert programme_rag(state, day("2030-01-01"), POLICY) is Rag.green


@pytest.mark.parametrize(
    ("forecast", "rag"),
    [
        ("100000", Rag.green),
        ("99000", Rag.green),
        ("100001", Rag.amber),
        ("105000", Rag.amber),  # exactly 5% over
        ("105000.01", Rag.red),
    ],
)
def test_budget_rag_by_forecast_outturn_against_budget(forecast, rag):
    state = fold(
        [
            registered(budget="100000"),
            event("forecast.revised", "2024-03-01", forecast_outturn=forecast),
        ]
    )
    assert budget_rag(state, POLICY) is rag


def test_forecast_defaults_to_the_budget_and_a_budget_increase_can_bring_it_back_to_green():
    state = fold([registered(budget="100000")])
    assert state.effective_forecast == Decimal("100000")
    state = fold(
        [
            registered(budget="100000"),
            event("forecast.revised", "2024-03-01", forecast_outturn="120000"),
            event(
                "budget.changed",
                "2024-03-05",
                funding_source="CCIP6",
                amount="20000",
                reason="approved overspend",
            ),
        ]
    )
    assert state.budget == Decimal("120000")
    assert budget_rag(state, POLICY) is Rag.green


def test_overall_is_the_worse_of_programme_and_budget():
    state = fold(
        [
            registered(budget="100000"),
            event("forecast.revised", "2024-03-01", forecast_outturn="104000"),
        ]
    )
    judged = snapshot(state, BEFORE_ANY_DATE, POLICY)
    assert (judged.programme_rag, judged.budget_rag, judged.overall_rag) == (
        Rag.green,
        Rag.amber,
        Rag.amber,
    )


def test_an_override_wins_is_named_with_its_reason_and_can_be_lifted():
    history = [
        registered(baseline_completion="2024-06-30"),
        event(
            "completion.revised",
            "2024-02-01",
            anticipated_completion="2024-09-30",
            reason="late steel",
        ),
        event(
            "rag.overridden",
            "2024-02-02",
            which="programme",
            value="amber",
            reason="recovery plan agreed with the contractor",
        ),
    ]
    judged = snapshot(fold(history), BEFORE_ANY_DATE, POLICY)
    assert judged.programme_rag is Rag.amber
    assert judged.overall_rag is Rag.amber
    assert judged.overrides == {"programme": "recovery plan agreed with the contractor"}

    lifted = [
        *history,
        event(
            "rag.overridden",
            "2024-03-01",
            which="programme",
            value=None,
            reason="recovery plan failed",
        ),
    ]
    judged = snapshot(fold(lifted), BEFORE_ANY_DATE, POLICY)
    assert judged.programme_rag is Rag.red
    assert judged.overrides == {}


def test_an_overall_override_leaves_the_component_rags_computed():
    history = [
        registered(budget="100000"),
        event("forecast.revised", "2024-03-01", forecast_outturn="150000"),
        event(
            "rag.overridden",
            "2024-03-02",
            which="overall",
            value="amber",
            reason="cabinet funding decision due next week",
        ),
    ]
    judged = snapshot(fold(history), BEFORE_ANY_DATE, POLICY)
    assert (judged.budget_rag, judged.overall_rag) == (Rag.red, Rag.amber)


def test_thresholds_are_configurable_per_deployment():
    strict = RagPolicy(amber_max_slippage_days=14, budget_amber_max_overspend_percent=Decimal(2))
    state = revised_to("2024-07-20")
    assert programme_rag(state, BEFORE_ANY_DATE, POLICY) is Rag.amber
    assert programme_rag(state, BEFORE_ANY_DATE, strict) is Rag.red


def test_overdue_rule_can_be_switched_off():
    state = revised_to("2024-06-30")
    relaxed = RagPolicy(overdue_is_red=False)
    assert programme_rag(state, dt.date(2024, 8, 1), relaxed) is Rag.green


def test_a_scheme_never_revised_is_overdue_once_its_baseline_passes():
    state = fold([registered(baseline_completion="2024-06-30")])
    assert slippage_days(state) == 0
    assert programme_rag(state, day("2024-06-30"), POLICY) is Rag.green
    assert programme_rag(state, day("2024-07-01"), POLICY) is Rag.red


def test_days_overdue_count_from_the_baseline_when_never_revised():
    state = fold([registered(baseline_completion="2024-06-30")])
    assert days_overdue(state, day("2024-06-30")) == 0
    assert days_overdue(state, day("2024-07-10")) == 10


# --- the reasons every board, report and alert reads from the snapshot ---------------------


def test_a_red_scheme_overdue_with_no_slip_says_it_is_overdue():
    state = fold([registered(baseline_completion="2024-06-30")])
    judged = snapshot(state, day("2024-11-27"), POLICY)
    assert judged.overall_rag is Rag.red and judged.slippage_days == 0
    assert judged.expected_completion == day("2024-06-30") and judged.expected_is_baseline
    assert judged.days_overdue == 150
    assert judged.concerns() == ["overdue by 150 days"]


def test_slip_and_overspend_are_both_named_and_a_green_scheme_has_no_concerns():
    history = [
        registered(budget="100000"),
        event("completion.revised", "2024-02-01", anticipated_completion="2024-07-29", reason="r"),
        event("forecast.revised", "2024-02-01", forecast_outturn="105000", reason="tender"),
    ]
    judged = snapshot(fold(history), BEFORE_ANY_DATE, POLICY)
    assert (judged.programme_rag, judged.budget_rag) == (Rag.red, Rag.amber)
    assert not judged.expected_is_baseline
    assert judged.concerns() == ["slipped 29 days", "forecast 5.0% over budget"]
    assert snapshot(fold(history[:1]), BEFORE_ANY_DATE, POLICY).concerns() == []


def test_an_override_is_its_own_reason():
    history = [
        registered(),
        event(
            "rag.overridden",
            "2024-02-01",
            actor="hoc",
            which="overall",
            value="amber",
            reason="occupation date at risk",
        ),
    ]
    judged = snapshot(fold(history), BEFORE_ANY_DATE, POLICY)
    assert judged.reasons["overall"] == "overridden: occupation date at risk"
    assert judged.concerns() == ["overridden: occupation date at risk"]
