"""The alert rules with fixed dates: what a head of capital hears about, and what not."""

from __future__ import annotations

from events import AlertKind, AlertRaised, Severity
from programme.rag import RagPolicy
from services.notifier.rules import alerts_for_change, arrived_late, overdue_alerts, superseded
from tests.builders import day, event, registered
from tests.unit.notifier.scenarios import RAISED_AT, last_change, snapshot_after, state_changes

STARTED = event("scheme.started", "2024-02-01")


def revised(on: str, to: str, reason: str = "Ground conditions", **extra: str):
    return event("completion.revised", on, anticipated_completion=to, reason=reason, **extra)


def alerts_after(*events, today: str = "2024-05-02") -> list[AlertRaised]:
    return alerts_for_change(last_change(*events, today=today), RAISED_AT, RagPolicy())


# slippage -------------------------------------------------------------------------------


def test_a_slip_within_28_days_of_baseline_is_a_warning_with_amber_programme() -> None:
    slip = revised("2024-05-01", "2024-07-20", actor="estates.pm")

    [alert] = alerts_after(registered(), STARTED, slip)

    assert alert.kind is AlertKind.slippage
    assert alert.severity is Severity.warning
    assert alert.subject == "[AMBER] S-1 slipped 20 days: new completion 20 Jul 2024"
    assert alert.details["previous_anticipated_completion"] == "2024-06-30"
    assert alert.details["anticipated_completion"] == "2024-07-20"
    assert alert.details["slippage_days"] == 20
    assert alert.details["programme_rag"] == "amber"
    assert alert.details["reason"] == "Ground conditions"
    assert alert.details["logged_by"] == "estates.pm"
    assert alert.actor == "estates.pm"
    assert alert.cause_event_id == slip.event_id


def test_a_slip_beyond_28_days_is_critical_with_a_subject_to_triage_by() -> None:
    cype = registered("CYPE-018", on="2022-06-30", baseline_completion="2022-10-28")
    slip = event(
        "completion.revised",
        "2022-10-14",
        "CYPE-018",
        anticipated_completion="2023-01-06",
        reason="Asbestos found in the old kitchen ceiling void",
    )

    [alert] = alerts_after(cype, slip, today="2022-10-14")

    assert alert.severity is Severity.critical
    assert alert.subject == "[RED] CYPE-018 slipped 70 days: new completion 6 Jan 2023"
    assert "from 28 Oct 2022 to 6 Jan 2023" in alert.message
    assert "Asbestos found in the old kitchen ceiling void" in alert.message
    assert alert.dedup_key == f"slippage:CYPE-018:{slip.event_id}"
    assert alert.alert_id == AlertRaised.alert_id_for(alert.dedup_key)


def test_a_revision_to_an_earlier_date_raises_nothing() -> None:
    first = revised("2024-05-01", "2024-08-31")
    earlier = revised("2024-06-01", "2024-08-15")

    assert alerts_after(registered(), STARTED, first, earlier, today="2024-06-01") == []


def test_a_revision_that_stays_within_the_baseline_raises_nothing() -> None:
    ahead = revised("2024-04-01", "2024-06-10")
    later_but_on_time = revised("2024-05-01", "2024-06-25")

    assert alerts_after(registered(), STARTED, ahead) == []
    assert alerts_after(registered(), STARTED, ahead, later_but_on_time) == []


def test_a_second_identical_revision_raises_nothing() -> None:
    slip = revised("2024-05-01", "2024-07-20")
    again = revised("2024-05-02", "2024-07-20", reason="Confirming the new date")

    changes = state_changes(registered(), STARTED, slip, again, today="2024-05-02")

    assert len(alerts_for_change(changes[2], RAISED_AT, RagPolicy())) == 1
    assert alerts_for_change(changes[3], RAISED_AT, RagPolicy()) == []


def test_the_first_anticipated_date_of_a_scheme_without_baseline_raises_nothing() -> None:
    no_baseline = registered(baseline_completion=None)

    assert alerts_after(no_baseline, STARTED, revised("2024-05-01", "2024-09-30")) == []


def test_a_further_slip_of_an_already_late_scheme_raises_again() -> None:
    first = revised("2024-05-01", "2024-07-20")
    further = revised("2024-06-01", "2024-08-30")

    [alert] = alerts_after(registered(), STARTED, first, further, today="2024-06-01")

    assert alert.subject == "[RED] S-1 slipped 61 days: new completion 30 Aug 2024"
    assert alert.details["moved_by_days"] == 41


def test_a_slip_reports_the_rag_it_worsened_instead_of_a_second_alert() -> None:
    [alert] = alerts_after(registered(), STARTED, revised("2024-05-01", "2024-09-30"))

    assert alert.kind is AlertKind.slippage
    assert alert.details["previous_programme_rag"] == "green"
    assert alert.details["programme_rag"] == "red"
    assert alert.details["overall_rag"] == "red"


def test_a_slip_under_a_green_programme_override_is_information_only() -> None:
    override = event(
        "rag.overridden",
        "2024-04-01",
        which="programme",
        value="green",
        reason="Delay agreed with the school",
    )

    [alert] = alerts_after(registered(), STARTED, override, revised("2024-05-01", "2024-09-30"))

    assert alert.severity is Severity.info
    assert alert.subject.startswith("[GREEN] S-1 slipped 92 days")


# budget ---------------------------------------------------------------------------------


def forecast(on: str, amount: str):
    return event("forecast.revised", on, forecast_outturn=amount, reason="Tender returns")


def test_a_forecast_up_to_5_percent_over_budget_is_a_warning() -> None:
    [alert] = alerts_after(registered(), forecast("2024-03-01", "104000"))

    assert alert.kind is AlertKind.budget
    assert alert.severity is Severity.warning
    assert alert.subject == "[AMBER] S-1 forecast £104,000 is £4,000 (4.0%) over budget £100,000"
    assert alert.details["overspend"] == "4000"
    assert alert.details["reason"] == "Tender returns"


def test_a_forecast_more_than_5_percent_over_budget_is_critical() -> None:
    [alert] = alerts_after(registered(), forecast("2024-03-01", "112500.50"))

    assert alert.severity is Severity.critical
    assert alert.subject == (
        "[RED] S-1 forecast £112,500.50 is £12,500.50 (12.5%) over budget £100,000"
    )


def test_a_forecast_within_budget_raises_nothing() -> None:
    assert alerts_after(registered(), forecast("2024-03-01", "99000")) == []


def test_an_overspend_that_shrinks_or_repeats_raises_nothing() -> None:
    over = forecast("2024-03-01", "112000")

    assert alerts_after(registered(), over, forecast("2024-04-01", "108000")) == []
    assert alerts_after(registered(), over, forecast("2024-04-01", "112000")) == []


def test_a_budget_cut_below_the_forecast_raises_a_budget_alert() -> None:
    cut = event(
        "budget.changed", "2024-04-01", funding_source="CCIP6", amount="-10000", reason="Savings"
    )

    [alert] = alerts_after(registered(), forecast("2024-03-01", "100000"), cut)

    assert alert.kind is AlertKind.budget
    assert alert.severity is Severity.critical
    assert alert.dedup_key == f"budget:S-1:{cut.event_id}"


# rag_change -----------------------------------------------------------------------------


def test_a_rebaseline_that_turns_programme_red_raises_a_rag_change() -> None:
    amber = revised("2024-05-01", "2024-07-10")
    rebaselined = event(
        "scheme.rebaselined", "2024-05-10", baseline_completion="2024-06-01", reason="Corrected"
    )

    [alert] = alerts_after(registered(), STARTED, amber, rebaselined, today="2024-05-10")

    assert alert.kind is AlertKind.rag_change
    assert alert.severity is Severity.critical
    assert alert.subject == "[RED] S-1 RAG worsened: programme amber → red, overall amber → red"
    assert alert.dedup_key == f"rag_change:S-1:{rebaselined.event_id}"


def test_an_override_to_amber_is_a_warning_that_gives_the_reason() -> None:
    override = event(
        "rag.overridden",
        "2024-04-01",
        which="overall",
        value="amber",
        reason="Planning objection from neighbours",
    )

    [alert] = alerts_after(registered(), STARTED, override)

    assert alert.severity is Severity.warning
    assert alert.subject == "[AMBER] S-1 RAG worsened: overall green → amber"
    assert "Planning objection from neighbours" in alert.message


def test_an_event_showing_a_scheme_overdue_raises_the_sweeps_overdue_alert_not_a_rag_change() -> (
    None
):
    # A register imported on 29 July, with no baseline: the first anticipated date recorded
    # becomes the baseline and had already passed on the day it was recorded.
    past_date = revised("2024-07-29", "2024-06-30", actor="importer")

    [alert] = alerts_after(
        registered(baseline_completion=None), STARTED, past_date, today="2024-07-29"
    )

    assert alert.kind is AlertKind.overdue
    assert alert.dedup_key == "overdue:S-1:2024-06-30"  # the key the sweep would use
    assert alert.subject == "[RED] S-1 overdue: completion was due 30 Jun 2024 (29 days ago)"
    assert alert.cause_event_id == past_date.event_id
    assert alert.details["previous_programme_rag"] == "green"


def test_a_rag_that_improves_raises_nothing() -> None:
    red = revised("2024-05-01", "2024-09-30")
    back_on_track = revised("2024-06-01", "2024-07-05")

    assert alerts_after(registered(), STARTED, red, back_on_track, today="2024-06-01") == []


def test_registering_a_scheme_raises_nothing() -> None:
    assert alerts_after(registered()) == []


# overdue --------------------------------------------------------------------------------


def test_a_scheme_past_its_anticipated_completion_is_overdue_and_red() -> None:
    late = snapshot_after(
        registered(), STARTED, revised("2024-05-01", "2024-07-10"), today="2024-07-29"
    )

    [alert] = overdue_alerts([late], RAISED_AT)

    assert alert.kind is AlertKind.overdue
    assert alert.severity is Severity.critical
    assert alert.subject == "[RED] S-1 overdue: completion was due 10 Jul 2024 (19 days ago)"
    assert alert.dedup_key == "overdue:S-1:2024-07-10"
    assert alert.cause_event_id is None


def test_overdue_is_keyed_by_the_anticipated_date_not_the_day_swept() -> None:
    history = [registered(), STARTED, revised("2024-05-01", "2024-07-10")]

    monday = overdue_alerts([snapshot_after(*history, today="2024-07-29")], RAISED_AT)
    tuesday = overdue_alerts([snapshot_after(*history, today="2024-07-30")], RAISED_AT)

    assert [a.alert_id for a in monday] == [a.alert_id for a in tuesday]
    assert "(20 days ago)" in tuesday[0].subject


def test_a_new_anticipated_date_that_passes_is_overdue_again_under_a_new_key() -> None:
    history = [registered(), STARTED, revised("2024-05-01", "2024-07-10")]
    later = [*history, revised("2024-07-15", "2024-08-20")]

    first = overdue_alerts([snapshot_after(*history, today="2024-07-15")], RAISED_AT)
    second = overdue_alerts([snapshot_after(*later, today="2024-09-01")], RAISED_AT)

    assert [a.dedup_key for a in first] == ["overdue:S-1:2024-07-10"]
    assert [a.dedup_key for a in second] == ["overdue:S-1:2024-08-20"]


def test_a_scheme_is_not_overdue_on_its_anticipated_day() -> None:
    due_today = snapshot_after(
        registered(), STARTED, revised("2024-05-01", "2024-07-29"), today="2024-07-29"
    )

    assert overdue_alerts([due_today], RAISED_AT) == []


def test_complete_and_cancelled_schemes_are_never_overdue() -> None:
    complete = snapshot_after(
        registered(), STARTED, event("scheme.completed", "2024-07-20"), today="2024-08-29"
    )
    cancelled = snapshot_after(
        registered("S-2"),
        event("scheme.cancelled", "2024-03-01", "S-2", reason="Funding withdrawn"),
        today="2024-08-29",
    )

    assert overdue_alerts([complete, cancelled], RAISED_AT) == []


def test_a_scheme_never_revised_is_overdue_once_its_baseline_passes() -> None:
    silent = snapshot_after(registered(), STARTED, today="2024-07-29")

    [alert] = overdue_alerts([silent], RAISED_AT)

    assert alert.dedup_key == "overdue:S-1:2024-06-30"
    assert "no revised date has been logged" in alert.message


def test_overdue_under_an_amber_programme_override_is_a_warning() -> None:
    override = event(
        "rag.overridden", "2024-07-01", which="programme", value="amber", reason="Snagging only"
    )
    late = snapshot_after(registered(), STARTED, override, today="2024-07-29")

    [alert] = overdue_alerts([late], RAISED_AT)

    assert alert.severity is Severity.warning
    assert alert.subject.startswith("[AMBER] S-1 overdue")


def test_overdue_is_the_trackers_judgement_not_a_second_rule_of_the_notifiers() -> None:
    """The sweep raises exactly where `programme.rag` judged the snapshot overdue: were the
    notifier to judge lateness again from the dates, a change to the tracker's rule would
    leave the two disagreeing (no longer overdue on the dashboard, still alerted)."""
    late = snapshot_after(
        registered(), STARTED, revised("2024-05-01", "2024-07-10"), today="2024-07-29"
    )
    assert late.overdue
    judged_otherwise = late.model_copy(update={"overdue": False})

    assert overdue_alerts([judged_otherwise], RAISED_AT) == []
    [alert] = overdue_alerts([late], RAISED_AT)
    assert alert.details["judged_on"] == "2024-07-29"
    assert alert.details["expected_completion"] == "2024-07-10"


# judged as at the event's own date ------------------------------------------------------


def test_a_slip_of_28_days_is_a_warning_and_of_29_days_critical_even_on_an_overdue_scheme() -> None:
    # Logged on 15 Aug, when both new dates have passed: the programme is red as overdue,
    # but the slip alone decides how urgent the slippage alert is.
    for new_date, severity in (("2024-07-28", Severity.warning), ("2024-07-29", Severity.critical)):
        [alert] = alerts_after(
            registered(), STARTED, revised("2024-08-15", new_date), today="2024-08-15"
        )

        assert alert.kind is AlertKind.slippage
        assert alert.severity is severity, new_date
        assert alert.details["programme_rag"] == "red"  # overdue, which the sweep reports


def test_a_slip_published_long_after_is_judged_as_it_stood_on_its_own_date() -> None:
    slip = revised("2024-03-01", "2024-07-20")

    [alert] = alerts_after(registered(), STARTED, slip, today="2025-01-06")

    assert alert.severity is Severity.warning
    assert alert.subject == "[AMBER] S-1 slipped 20 days: new completion 20 Jul 2024"
    assert alert.details["programme_rag"] == "amber"  # not red: 20 July was still to come


def test_a_date_still_to_come_on_its_own_date_raises_no_overdue_however_late_published() -> None:
    no_baseline = registered(baseline_completion=None)

    assert alerts_after(no_baseline, STARTED, revised("2024-03-01", "2024-06-30")) == []
    assert (
        alerts_after(no_baseline, STARTED, revised("2024-03-01", "2024-06-30"), today="2025-01-06")
        == []
    )


# late news and what supersedes it --------------------------------------------------------


def test_news_heard_more_than_the_setting_after_it_happened_is_late() -> None:
    on_time = event("scheme.started", "2024-07-22", recorded_on="2024-07-29")
    a_day_more = event("scheme.started", "2024-07-21", recorded_on="2024-07-29")
    # Stamped as recorded on the day, but published to us a year later: old news all the same.
    replayed = event("scheme.started", "2023-07-21")

    assert not arrived_late(on_time, day("2024-07-29"), late_after_days=7)
    assert arrived_late(a_day_more, day("2024-07-29"), late_after_days=7)
    assert arrived_late(replayed, day("2024-07-29"), late_after_days=7)
    assert not arrived_late(replayed, day("2024-07-29"), late_after_days=400)


def test_a_slip_is_superseded_once_the_date_moves_again_or_the_scheme_completes() -> None:
    to_june = revised("2024-03-01", "2024-07-20")
    [june] = alerts_after(registered(), STARTED, to_june)
    later = [registered(), STARTED, to_june]

    to_september = snapshot_after(*later, revised("2024-04-01", "2024-09-30"), today="2024-04-01")
    back_to_may = snapshot_after(*later, revised("2024-04-01", "2024-05-31"), today="2024-04-01")
    done = snapshot_after(*later, event("scheme.completed", "2024-04-01"), today="2024-04-01")
    snag = event("snagging.raised", "2024-04-01", snag_id="F1", description="Fire door")
    unrelated = snapshot_after(*later, snag, today="2024-04-01")

    assert superseded(june, to_september) and superseded(june, back_to_may)
    assert superseded(june, done)
    assert not superseded(june, unrelated)


def test_a_budget_alert_is_superseded_by_a_new_forecast_and_a_rag_change_by_a_new_rag() -> None:
    over = forecast("2024-03-01", "112000")
    [budget] = alerts_after(registered(), over)
    amber = event("rag.overridden", "2024-03-01", which="overall", value="amber", reason="Planning")
    [rag_change] = alerts_after(registered(), STARTED, amber)

    reforecast = snapshot_after(
        registered(), over, forecast("2024-04-01", "99000"), today="2024-04-01"
    )
    same = snapshot_after(registered(), over, STARTED, today="2024-04-01")
    lifted = event("rag.overridden", "2024-04-01", which="overall", value="green", reason="Agreed")

    assert superseded(budget, reforecast) and not superseded(budget, same)
    assert superseded(
        rag_change, snapshot_after(registered(), STARTED, amber, lifted, today="2024-04-01")
    )
    assert not superseded(
        rag_change, snapshot_after(registered(), STARTED, amber, today="2024-04-01")
    )


def test_an_overdue_alert_is_superseded_by_a_new_date_or_completion_not_by_time() -> None:
    history = [registered(), STARTED, revised("2024-05-01", "2024-07-10")]
    [overdue] = overdue_alerts([snapshot_after(*history, today="2024-07-29")], RAISED_AT)

    a_day_on = snapshot_after(*history, today="2024-07-30")
    moved = snapshot_after(*history, revised("2024-07-29", "2024-09-30"), today="2024-07-29")
    done = snapshot_after(*history, event("scheme.completed", "2024-07-29"), today="2024-07-29")

    assert not superseded(overdue, a_day_on)
    assert superseded(overdue, moved) and superseded(overdue, done)
