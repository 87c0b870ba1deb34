"""A position on the two time axes: as at a date (occurred), as known on a date (recorded)."""

from __future__ import annotations

from programme.position import Position
from tests.builders import day, event, registered

HISTORY = [
    registered(on="2024-01-10", recorded_on="2024-07-29", budget="100000"),
    event("scheme.started", "2024-02-01", recorded_on="2024-07-29"),
    event(
        "completion.revised",
        "2024-05-01",
        recorded_on="2024-07-29",
        anticipated_completion="2024-09-30",
        reason="late steel",
    ),
    event("snagging.raised", "2024-08-02", snag_id="SN-1", description="Door"),
    # Recorded on 5 Aug, but it happened on 28 Jul: it belongs to the position of 28 Jul.
    event("snagging.cleared", "2024-08-04", recorded_on="2024-08-05", snag_id="SN-1"),
]


def test_as_at_keeps_what_had_occurred_by_then_whenever_it_was_recorded():
    year_end = Position.as_of(day("2024-03-31"))
    assert year_end.fold(HISTORY) is None  # nothing had been recorded by then
    as_at = Position(day("2024-03-31"), as_at=day("2024-03-31"))
    state = as_at.fold(HISTORY)
    assert state is not None and state.actual_start == day("2024-02-01")
    assert state.anticipated_completion is None


def test_known_on_keeps_only_what_had_been_recorded():
    known = Position(day("2024-08-04"), known_on=day("2024-08-04")).fold(HISTORY)
    assert known is not None and [s.snag_id for s in known.open_snags] == ["SN-1"]
    everything = Position(day("2024-08-05")).fold(HISTORY)
    assert everything is not None and everything.open_snags == ()


def test_an_event_that_relied_on_a_later_one_is_left_out_of_an_earlier_position():
    out_of_order = [
        *HISTORY[:3],
        event("snagging.raised", "2024-08-02", snag_id="SN-2", description="Tap"),
        event("snagging.cleared", "2024-08-01", snag_id="SN-2"),
    ]
    state = Position(day("2024-08-01"), as_at=day("2024-08-01")).fold(out_of_order)
    assert state is not None and state.open_snags == () and state.cleared_snags == ()


def test_every_position_says_which_it_is():
    assert (
        Position(day("2024-03-31"), day("2024-03-31"), day("2024-07-29")).describe()
        == "Position at 31 Mar 2024, as known on 29 Jul 2024"
    )
    assert Position(day("2024-11-30")).describe() == "Position at 30 Nov 2024, as known now"
    assert (
        Position(day("2024-07-29"), as_at=day("2024-03-31")).describe()
        == "Position at 31 Mar 2024, as known now, judged on 29 Jul 2024"
    )
