"""Correcting a scheme's record: amendments, transfers between sources, snag details."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from events import Envelope
from events.payloads import PublicSensitivity, SnagPriority
from programme.rag import RagPolicy, snapshot
from programme.scheme import EventRejected, dump_state, fold, load_state, public_sensitivity_on
from tests.builders import day, event, registered


def funded_from_two_sources() -> Envelope:
    """S-1 registered with 1,100,000: 600,000 from Policy Provision (approved 1 February
    2022) and 500,000 from DfE (approval not dated)."""
    return registered(
        budget="1100000",
        funding=[
            {"source": "Policy Provision", "amount": "600000", "approved_on": "2022-02-01"},
            {"source": "DfE", "amount": "500000"},
        ],
    )


def test_an_amendment_changes_the_record_and_keeps_old_and_new_values():
    state = fold(
        [
            registered(title="Conversion of 59 & 61 Lutterworth Road", contractor="Oliveti"),
            event(
                "scheme.amended",
                "2024-08-01",
                actor="clerk",
                public_sensitivity="high",
                contractor="Oliveti Construction",
                reason="Children's home: address must not be published",
            ),
        ]
    )
    assert state.public_sensitivity is PublicSensitivity.high
    assert state.contractor == "Oliveti Construction"
    (amendment,) = state.amendments
    assert amendment.actor == "clerk"
    assert amendment.on == day("2024-08-01")
    assert amendment.reason == "Children's home: address must not be published"
    assert {(c.field, c.old, c.new) for c in amendment.changes} == {
        ("contractor", "Oliveti", "Oliveti Construction"),
        ("public_sensitivity", "low", "high"),
    }


def test_an_amendment_dates_a_funding_approval():
    state = fold(
        [
            funded_from_two_sources(),
            event(
                "scheme.amended",
                "2024-03-01",
                funding_source="DfE",
                approved_on="2022-02-14",
                reason="Grant letter found",
            ),
        ]
    )
    assert {line.source: line.approved_on for line in state.approvals} == {
        "Policy Provision": day("2022-02-01"),
        "DfE": day("2022-02-14"),
    }
    (change,) = state.amendments[0].changes
    assert (change.field, change.old, change.new) == ("approval of DfE", None, "2022-02-14")


def test_an_amendment_of_a_source_the_scheme_is_not_funded_by_is_refused():
    with pytest.raises(EventRejected, match="no funding approved from 'Salix'"):
        fold(
            [
                funded_from_two_sources(),
                event(
                    "scheme.amended",
                    "2024-03-01",
                    funding_source="Salix",
                    approved_on="2022-02-14",
                    reason="x",
                ),
            ]
        )


def test_an_amendment_that_changes_nothing_is_refused():
    with pytest.raises(EventRejected, match="changes nothing"):
        fold(
            [
                registered(contractor="Stepnell"),
                event("scheme.amended", "2024-03-01", contractor="Stepnell", reason="x"),
            ]
        )


def test_an_amendment_needs_a_reason_and_something_to_change():
    with pytest.raises(ValidationError, match="reason"):
        event("scheme.amended", "2024-03-01", title="New title")
    with pytest.raises(EventRejected, match="names at least one field"):
        fold([registered(), event("scheme.amended", "2024-03-01", reason="tidying up")])
    half = event("scheme.amended", "2024-03-01", funding_source="CCIP6", reason="x")
    with pytest.raises(EventRejected, match="funding_source goes with approved_on"):
        fold([registered(), half])


def test_a_cancelled_scheme_can_still_be_corrected():
    state = fold(
        [
            registered(),
            event("scheme.cancelled", "2024-02-01", reason="No longer needed"),
            event("scheme.amended", "2024-03-01", public_sensitivity="high", reason="Address"),
        ]
    )
    assert state.public_sensitivity is PublicSensitivity.high


def test_public_sensitivity_takes_effect_on_the_day_the_amendment_occurred():
    history = [
        registered(on="2024-01-01"),
        event(
            "scheme.amended",
            "2024-08-01",
            recorded_on="2024-09-15",
            public_sensitivity="high",
            reason="Children's home",
        ),
    ]
    assert public_sensitivity_on(history, day("2024-07-31")) is PublicSensitivity.low
    # Recorded later, but in effect from the day it occurred.
    assert public_sensitivity_on(history, day("2024-08-01")) is PublicSensitivity.high
    assert public_sensitivity_on(history, None) is PublicSensitivity.high
    assert public_sensitivity_on(history, day("2023-12-31")) is None


def test_a_transfer_moves_money_between_sources_and_keeps_the_total():
    state = fold(
        [
            funded_from_two_sources(),
            event(
                "budget.transferred",
                "2024-03-01",
                from_source="DfE",
                to_source="CCIP7",
                amount="200000",
                reason="Grant clawed back, covered by CCIP7",
            ),
        ]
    )
    assert state.budget == Decimal("1100000")
    assert state.budget_by_source() == {
        "Policy Provision": Decimal("600000"),
        "DfE": Decimal("300000"),
        "CCIP7": Decimal("200000"),
    }
    # A transfer is not an approval: the registration's approvals are as they were.
    assert [line.source for line in state.approvals] == ["Policy Provision", "DfE"]


def test_a_transfer_that_would_take_a_source_below_zero_is_refused():
    with pytest.raises(EventRejected, match="would take it below zero: S-1 holds 500000 from DfE"):
        fold(
            [
                funded_from_two_sources(),
                event(
                    "budget.transferred",
                    "2024-03-01",
                    from_source="DfE",
                    to_source="CCIP7",
                    amount="500000.01",
                    reason="x",
                ),
            ]
        )


def test_a_transfer_needs_a_positive_amount_and_two_different_sources():
    with pytest.raises(ValidationError, match="greater than 0"):
        event(
            "budget.transferred", "2024-03-01", from_source="DfE", to_source="CCIP7",
            amount="-5", reason="x",
        )  # fmt: skip
    same = event(
        "budget.transferred", "2024-03-01", from_source="DfE", to_source="dfe", amount="5",
        reason="x",
    )  # fmt: skip
    with pytest.raises(EventRejected, match="are the same"):
        fold([funded_from_two_sources(), same])


def test_snags_carry_assignee_location_priority_and_due_date_and_go_overdue():
    state = fold(
        [
            registered(),
            event(
                "snagging.raised",
                "2024-06-01",
                snag_id="S1",
                description="Door closer missing",
                assignee="Stepnell site manager",
                location="Block B, WC 2",
                priority="high",
                due_on="2024-06-14",
            ),
            event("snagging.raised", "2024-06-01", snag_id="S2", description="Paint"),
            event(
                "snagging.raised",
                "2024-06-02",
                snag_id="S3",
                description="Tap",
                due_on="2024-06-10",
            ),
            event("snagging.cleared", "2024-06-09", snag_id="S3"),
        ]
    )
    first = state.open_snags[0]
    assert (first.assignee, first.location, first.priority, first.due_on) == (
        "Stepnell site manager",
        "Block B, WC 2",
        SnagPriority.high,
        day("2024-06-14"),
    )
    assert state.overdue_snags(day("2024-06-14")) == ()
    assert [s.snag_id for s in state.overdue_snags(day("2024-06-15"))] == ["S1"]
    assert [(s.snag_id, s.cleared_on) for s in state.cleared_snags] == [("S3", day("2024-06-09"))]
    assert snapshot(state, day("2024-06-15"), RagPolicy()).overdue_snags == 1


def test_a_snag_priority_must_be_low_medium_or_high():
    with pytest.raises(ValidationError, match="priority"):
        event("snagging.raised", "2024-06-01", snag_id="S1", description="x", priority="urgent")


def test_percent_complete_is_the_latest_progress_reports():
    state = fold(
        [
            registered(),
            event("progress.reported", "2024-03-01", note="Groundworks", percent_complete=20),
            event("progress.reported", "2024-04-01", note="Frame up, awaiting survey"),
        ]
    )
    assert state.progress_note == "Frame up, awaiting survey"
    assert state.percent_complete is None
    completed = fold(
        [
            registered(),
            event("scheme.completed", "2024-05-01"),
            event("progress.reported", "2024-05-10", note="Awaiting paperwork for handover"),
        ]
    )
    assert completed.percent_complete == 100


def test_a_forecast_keeps_its_reason():
    state = fold(
        [
            registered(),
            event("forecast.revised", "2024-03-01", forecast_outturn="120000", reason="Asbestos"),
        ]
    )
    assert state.forecast_reason == "Asbestos"


def test_a_state_stored_before_snags_had_details_still_loads():
    stored = dump_state(fold([registered()])).replace(
        '"open_snags":[]', '"open_snags":[["S1","Door closer"]]'
    )
    (snag,) = load_state(stored).open_snags
    assert (snag.snag_id, snag.description, snag.due_on) == ("S1", "Door closer", None)
