"""Folding a scheme's events into its state."""

from __future__ import annotations

from decimal import Decimal

import pytest

from events import SchemeStatus
from programme.scheme import UNALLOCATED, EventRejected, apply, fold
from tests.builders import day, event, registered


def test_a_scheme_moves_through_site_completion_and_handover():
    state = fold(
        [
            registered(),
            event("scheme.started", "2024-02-01"),
            event("phase.completed", "2024-04-01", phase="Groundworks"),
            event("snagging.raised", "2024-06-01", snag_id="S1", description="Door closer"),
            event("snagging.raised", "2024-06-01", snag_id="S2", description="Paint"),
            event("snagging.cleared", "2024-06-05", snag_id="S1"),
            event("scheme.completed", "2024-06-20"),
            event("scheme.handed_over", "2024-06-28"),
        ]
    )
    assert state.status is SchemeStatus.handed_over
    assert state.actual_start == day("2024-02-01")
    assert state.actual_completion == day("2024-06-20")
    assert state.phases_completed == ("Groundworks",)
    assert [(s.snag_id, s.description) for s in state.open_snags] == [("S2", "Paint")]


def test_budget_changes_add_to_the_budget_by_source():
    state = fold(
        [
            registered(
                budget="1100000",
                funding=[
                    {"source": "Policy Provision", "amount": "600000"},
                    {"source": "DfE", "amount": "500000"},
                ],
            ),
            event(
                "budget.changed",
                "2024-03-01",
                funding_source="DfE",
                amount="50000",
                reason="fire stopping",
            ),
            event(
                "budget.changed",
                "2024-04-01",
                funding_source="Policy Provision",
                amount="-20000",
                reason="savings",
            ),
        ]
    )
    assert state.budget == Decimal("1130000")
    assert state.budget_by_source() == {
        "Policy Provision": Decimal("580000"),
        "DfE": Decimal("550000"),
    }


def test_budget_with_no_source_split_is_held_as_unallocated():
    state = fold([registered(budget="450000", funding=[])])
    assert state.budget_by_source() == {UNALLOCATED: Decimal("450000")}


def test_on_hold_and_resumed_return_to_site():
    state = fold(
        [
            registered(),
            event("scheme.started", "2024-02-01"),
            event("scheme.on_hold", "2024-03-01", reason="bats found in the roof"),
        ]
    )
    assert state.status is SchemeStatus.on_hold
    assert state.status_reason == "bats found in the roof"
    state = apply(state, event("scheme.resumed", "2024-05-01", reason="licence granted"))
    assert state.status is SchemeStatus.on_site


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ([event("scheme.started", "2024-02-01")], "unknown scheme S-1"),
        ([registered(), registered()], "already registered"),
        ([registered(), event("snagging.cleared", "2024-02-01", snag_id="X9")], "not open"),
        ([registered(), event("scheme.handed_over", "2024-02-01")], "before practical completion"),
        (
            [
                registered(budget="1000"),
                event(
                    "budget.changed",
                    "2024-02-01",
                    funding_source="CCIP6",
                    amount="-2000",
                    reason="cut",
                ),
            ],
            "negative",
        ),
        (
            [
                registered(),
                event("scheme.started", "2024-03-01"),
                event("scheme.completed", "2024-02-01", recorded_on="2024-03-02"),
            ],
            "before the actual start",
        ),
        (
            [
                registered(),
                event("scheme.cancelled", "2024-02-01", reason="no funding"),
                event("scheme.started", "2024-03-01"),
            ],
            "cancelled",
        ),
    ],
)
def test_impossible_events_are_rejected_with_a_reason(history, message):
    with pytest.raises(EventRejected, match=message):
        fold(history)


def test_revising_to_the_same_date_is_not_counted_as_a_revision():
    state = fold(
        [
            registered(),
            event(
                "completion.revised", "2024-02-01", anticipated_completion="2024-07-01", reason="a"
            ),
            event(
                "completion.revised", "2024-02-02", anticipated_completion="2024-07-01", reason="a"
            ),
        ]
    )
    assert state.completion_revisions == 1
