"""What changed between two committees: hand-checked examples, and generated histories
where the report must be exactly the difference of the two positions."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import Envelope, Rag
from programme.position import Position
from programme.rag import RagPolicy, expected_completion, snapshot
from programme.scheme import EventRejected, SchemeState, apply
from services.reporter.changes import PeriodError, changes_between, summary
from services.reporter.model import SchemeChanges
from services.reporter.render import Format, render
from tests.builders import day, event, registered
from tests.unit.reporter.pages import PackPage

POLICY = RagPolicy()
K1 = day("2024-03-31")
K2 = day("2024-07-29")


def by_scheme(events: list[Envelope]) -> dict[str, list[Envelope]]:
    grouped: dict[str, list[Envelope]] = defaultdict(list)
    for item in events:
        grouped[item.scheme_id].append(item)
    return dict(grouped)


def committee_history() -> list[Envelope]:
    """Three schemes known at the March committee, one added before July's."""
    return [
        registered("S-1", on="2024-01-01", budget="100000", baseline_completion="2024-06-30"),
        event("scheme.started", "2024-02-01", "S-1"),
        registered("S-2", on="2024-01-05", budget="50000", baseline_completion="2024-09-30"),
        registered("S-3", on="2024-01-10", budget="30000", baseline_completion="2024-05-31"),
        event("snagging.raised", "2024-03-01", "S-2", snag_id="SN-1", description="Door"),
        # After the March committee:
        event(
            "completion.revised",
            "2024-04-10",
            "S-1",
            actor="pm.alice",
            anticipated_completion="2024-08-31",
            reason="Steel delivery late",
        ),
        event(
            "budget.changed",
            "2024-04-12",
            "S-1",
            funding_source="DfE",
            amount="20000",
            reason="Extra classroom",
        ),
        event(
            "forecast.revised",
            "2024-04-13",
            "S-1",
            actor="qs.bob",
            forecast_outturn="130000",
            reason="Steel prices",
        ),
        event("snagging.cleared", "2024-05-02", "S-2", snag_id="SN-1"),
        event("scheme.on_hold", "2024-05-03", "S-2", reason="Planning objection"),
        registered("S-4", on="2024-06-01", budget="75000", baseline_completion="2025-03-31"),
        # Occurred before the March committee, told to the product after it.
        event("scheme.started", "2024-03-20", "S-4", recorded_on="2024-06-02"),
    ]


@pytest.fixture(scope="module")
def changes():
    return changes_between(by_scheme(committee_history()), K1, K2, POLICY)


def scheme(report: Any, scheme_id: str) -> SchemeChanges:
    (found,) = [s for s in report.schemes if s.scheme_id == scheme_id]
    return found


class TestBetweenTwoCommittees:
    def test_a_moved_completion_says_from_to_by_how_many_days_why_and_who(self, changes):
        moved = scheme(changes, "S-1").completion
        assert moved is not None
        assert (moved.before, moved.after, moved.days) == (
            day("2024-06-30"),
            day("2024-08-31"),
            62,
        )
        (revision,) = moved.revisions
        assert (revision.reason, revision.by) == ("Steel delivery late", "pm.alice")

    def test_rag_changes_are_named_with_their_causes(self, changes):
        rag = {c.box: c for c in scheme(changes, "S-1").rag}
        assert (rag["programme"].before, rag["programme"].after) == (Rag.green, Rag.red)
        assert rag["programme"].after_reason == "slipped 62 days"
        assert rag["budget"].after_reason == "forecast 8.3% over budget"

    def test_a_scheme_nobody_updated_still_turns_red_when_it_passes_its_date(self, changes):
        (overall,) = [c for c in scheme(changes, "S-3").rag if c.box == "overall"]
        assert (overall.before, overall.after) == (Rag.green, Rag.red)
        assert overall.after_reason == "overdue by 59 days"

    def test_budget_changes_by_funding_source_add_up_to_the_total(self, changes):
        moved = {c.name: (c.before, c.after) for c in changes.budget_by_source}
        assert moved == {
            "CCIP6": (Decimal(180000), Decimal(255000)),
            "DfE": (Decimal(0), Decimal(20000)),
        }
        assert changes.budget_total.change == Decimal(95000)
        assert changes.forecast_total.change == Decimal(105000)
        s1 = scheme(changes, "S-1")
        assert (s1.forecast.before, s1.forecast.after) == (Decimal(100000), Decimal(130000))
        assert s1.forecast_reason is not None and s1.forecast_reason.by == "qs.bob"
        assert [r.reason for r in s1.budget_reasons] == ["Extra classroom"]

    def test_added_started_and_put_on_hold_with_the_reason(self, changes):
        s4 = scheme(changes, "S-4")
        assert s4.added and [m.what for m in s4.milestones] == ["Added", "Started"]
        assert s4.milestones[1].occurred_on == day("2024-03-20")
        (hold,) = scheme(changes, "S-2").milestones
        assert (hold.what, hold.reason) == ("Put on hold", "Planning objection")

    def test_snags_cleared_in_the_period(self, changes):
        s2 = scheme(changes, "S-2")
        assert s2.snags_raised == ()
        assert [(s.snag_id, s.on) for s in s2.snags_cleared] == [("SN-1", day("2024-05-02"))]

    def test_the_period_reads_as_one_sentence(self, changes):
        # S-4, added already started, counts as added only.
        assert summary(changes) == (
            "1 completion date moved, 1 scheme added, 1 scheme put on hold, 2 schemes "
            "turned red, 1 budget changed, 1 forecast revised and 1 snag cleared."
        )

    def test_nothing_recorded_and_nothing_due_is_said_plainly(self):
        quiet = changes_between(by_scheme(committee_history()[:2]), K1, day("2024-04-01"), POLICY)
        assert quiet.schemes == ()
        assert summary(quiet) == "Nothing recorded in the period changed the programme."

    def test_a_period_that_runs_backwards_is_refused(self):
        with pytest.raises(PeriodError, match="from 2024-07-29 is after to 2024-03-31"):
            changes_between({}, K2, K1, POLICY)

    def test_who_names_the_person_recording_on_someone_else_s_behalf(self):
        on_behalf = event("scheme.completed", "2024-06-30", "S-1", actor="pm.alice").model_copy(
            update={"recorded_by": "operator:carol"}
        )
        history = [*committee_history()[:2], on_behalf]
        report = changes_between(by_scheme(history), K1, K2, POLICY)
        (completed,) = scheme(report, "S-1").milestones
        assert completed.by == "pm.alice (recorded by operator:carol)"


# --- generated histories ----------------------------------------------------------------

BASE = dt.date(2024, 1, 1)
SOURCES = ("CCIP6", "DfE", "S106")
SCHEMES = ("S-1", "S-2", "S-3")


def _day(offset: int) -> str:
    return (BASE + dt.timedelta(days=offset)).isoformat()


@st.composite
def histories(draw: st.DrawFn) -> list[Envelope]:
    """Events of a few schemes, recorded on non-decreasing days, each one the fold accepts
    (candidates it refuses are dropped, as the tracker refuses them)."""
    recorded = 0
    events: list[Envelope] = []
    states: dict[str, SchemeState | None] = dict.fromkeys(SCHEMES)
    for _ in range(draw(st.integers(1, 40))):
        recorded += draw(st.integers(0, 15))
        scheme_id = draw(st.sampled_from(SCHEMES))
        occurred = draw(st.integers(max(0, recorded - 60), recorded))
        # A scheme's first event registers it: anything else would be refused.
        first = states[scheme_id] is None
        candidate = _candidate(draw, scheme_id, _day(occurred), _day(recorded), first)
        try:
            states[scheme_id] = apply(states[scheme_id], candidate)
        except EventRejected:
            continue
        events.append(candidate)
    return events


def _candidate(draw: st.DrawFn, scheme_id: str, on: str, recorded_on: str, first: bool) -> Envelope:
    money = st.integers(1, 200).map(lambda n: str(n * 1000))
    later = st.integers(0, 400).map(_day)
    kind = (
        "scheme.registered"
        if first
        else draw(
            st.sampled_from(
                [
                    "scheme.started",
                    "scheme.completed",
                    "scheme.handed_over",
                    "scheme.on_hold",
                    "scheme.resumed",
                    "scheme.cancelled",
                    "completion.revised",
                    "scheme.rebaselined",
                    "budget.changed",
                    "budget.transferred",
                    "forecast.revised",
                    "snagging.raised",
                    "snagging.cleared",
                    "rag.overridden",
                    "scheme.amended",
                ]
            )
        )
    )
    payloads: dict[str, Any] = {
        "scheme.registered": lambda: {
            "title": f"Scheme {scheme_id}",
            "budget": draw(money),
            "funding": [{"source": draw(st.sampled_from(SOURCES)), "amount": "1000"}],
            "baseline_completion": draw(st.none() | later),
        },
        "scheme.on_hold": lambda: {"reason": "paused"},
        "scheme.resumed": lambda: {"reason": "back"},
        "scheme.cancelled": lambda: {"reason": "no longer needed"},
        "completion.revised": lambda: {"anticipated_completion": draw(later), "reason": "r"},
        "scheme.rebaselined": lambda: {"baseline_completion": draw(later), "reason": "r"},
        "budget.changed": lambda: {
            "funding_source": draw(st.sampled_from(SOURCES)),
            "amount": draw(st.integers(-50, 50).map(lambda n: str(n * 1000))),
            "reason": "r",
        },
        "budget.transferred": lambda: {
            "from_source": draw(st.sampled_from(SOURCES)),
            "to_source": draw(st.sampled_from(SOURCES)),
            "amount": "500",
            "reason": "r",
        },
        "forecast.revised": lambda: {"forecast_outturn": draw(money)},
        "snagging.raised": lambda: {
            "snag_id": draw(st.sampled_from(("SN-1", "SN-2"))),
            "description": "d",
        },
        "snagging.cleared": lambda: {"snag_id": draw(st.sampled_from(("SN-1", "SN-2")))},
        "rag.overridden": lambda: {
            "which": draw(st.sampled_from(("programme", "budget", "overall"))),
            "value": draw(st.none() | st.sampled_from(list(Rag))),
            "reason": "judgement",
        },
        "scheme.amended": lambda: {"title": draw(st.sampled_from(("A", "B"))), "reason": "r"},
    }
    payload = payloads.get(kind, dict)()
    if kind == "scheme.registered":
        return registered(scheme_id, on=on, recorded_on=recorded_on, **payload)
    return event(kind, on, scheme_id, recorded_on=recorded_on, **payload)


def _positions(history: list[Envelope], k1: dt.date, k2: dt.date):
    return (
        Position(k1, known_on=k1).fold(history),
        Position(k2, known_on=k2).fold(history),
    )


def _by_source(states: list[SchemeState | None]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for state in states:
        for source, amount in (state.budget_by_source() if state else {}).items():
            totals[source] += amount
    return totals


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=histories(), k1=st.integers(0, 400), length=st.integers(0, 300))
def test_the_changes_report_is_the_difference_of_the_two_positions(events, k1, length):
    since, until = BASE + dt.timedelta(days=k1), BASE + dt.timedelta(days=k1 + length)
    grouped = by_scheme(events)
    report = changes_between(grouped, since, until, POLICY)
    listed = {s.scheme_id: s for s in report.schemes}
    positions = {sid: _positions(history, since, until) for sid, history in grouped.items()}

    before_by_source = _by_source([before for before, _ in positions.values()])
    after_by_source = _by_source([after for _, after in positions.values()])
    reported = {c.name: c for c in report.budget_by_source}
    for source in set(before_by_source) | set(after_by_source):
        change = after_by_source[source] - before_by_source[source]
        assert (reported[source].change if source in reported else Decimal(0)) == change
    assert report.budget_total.change == sum(after_by_source.values()) - sum(
        before_by_source.values()
    )
    assert report.forecast_total.after == sum(
        (after.effective_forecast for _, after in positions.values() if after), Decimal(0)
    )

    for scheme_id, (before, after) in positions.items():
        if after is None:
            assert scheme_id not in listed
            continue
        if before is None:
            assert listed[scheme_id].added
            assert listed[scheme_id].milestones[0].what == "Added"
            continue
        shown = listed.get(scheme_id)
        if expected_completion(before) != expected_completion(after):
            assert shown is not None and shown.completion is not None
            assert (shown.completion.before, shown.completion.after) == (
                expected_completion(before),
                expected_completion(after),
            )
        if before.status is not after.status:
            assert shown is not None
            assert (shown.status_before, shown.status_after) == (before.status, after.status)
        judged = snapshot(before, since, POLICY), snapshot(after, until, POLICY)
        for box in ("programme", "budget", "overall"):
            was, now = (getattr(j, f"{box}_rag") for j in judged)
            if was is not now:
                assert shown is not None
                (change,) = [c for c in shown.rag if c.box == box]
                assert (change.before, change.after) == (was, now)
                assert change.after_reason == judged[1].reasons[box]
        cleared = len(after.cleared_snags) - len(before.cleared_snags)
        assert len(shown.snags_cleared if shown else ()) == cleared
        if before.budget != after.budget or before.effective_forecast != after.effective_forecast:
            assert shown is not None
            assert shown.budget.change == after.budget - before.budget
            assert shown.forecast.change == after.effective_forecast - before.effective_forecast
    if until == since:
        assert report.schemes == ()


class TestRendered:
    def test_csv_has_one_line_per_change_with_plain_values(self, changes):
        rows = list(csv.DictReader(io.StringIO(render(changes, Format.csv))))
        moved = next(r for r in rows if r["change"] == "completion moved")
        assert (moved["scheme_id"], moved["before"], moved["after"], moved["difference"]) == (
            "S-1",
            "2024-06-30",
            "2024-08-31",
            "62",
        )
        assert (moved["reason"], moved["by"]) == ("Steel delivery late", "pm.alice")
        dfe = next(r for r in rows if r["change"] == "budget from DfE")
        assert (dfe["before"], dfe["after"], dfe["difference"]) == ("0", "20000", "20000")

    def test_html_opens_with_the_sentence_and_shows_only_sections_with_changes(self, changes):
        page = PackPage(str(render(changes, Format.html)))
        assert summary(changes) in page.words
        assert "Completion dates moved" in page.words and "Snags cleared" in page.words
        assert "Snags raised" not in page.words and "Records amended" not in page.words
        assert "+£20,000.00" in page.words and "+62" in page.words

    def test_json_carries_the_days_moved_and_exact_money(self, changes):
        document = json.loads(render(changes, Format.json), parse_float=Decimal)
        (s1,) = [s for s in document["schemes"] if s["scheme_id"] == "S-1"]
        assert s1["completion"]["days"] == 62
        assert s1["budget"] == {"name": "budget", "before": 100000, "after": 120000,
                                "change": 20000}  # fmt: skip
        assert document["summary"] == summary(changes)
