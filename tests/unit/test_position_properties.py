"""Positions on both time axes, over generated histories (hypothesis).

For any as-at date D and known-on date K: the figures SQL aggregates for budget by source
equal those of folding the events that occurred by D and were recorded by K; positions
only grow as K moves on; and the position of everything is the state the tracker stored.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel

from capital.application.publishing import to_message
from events import Envelope
from programme.position import Position
from programme.rag import RagPolicy
from programme.scheme import SchemeState
from projection.database import SessionFactory, make_engine, session_factory
from projection.views import scheme_states
from services.reporter.model import TOTAL, ReportScope
from services.reporter.queries import budget_by_source
from services.tracker.handlers import Applied, SchemeTracker
from tests.builders import event, registered

FIRST = dt.date(2024, 1, 1)
LAST = dt.date(2024, 12, 31)
TODAY = dt.date(2025, 6, 30)
SOURCES = ("CCIP6", "Basic Need", "S106")


def on(offset: int) -> str:
    return (FIRST + dt.timedelta(days=offset)).isoformat()


@st.composite
def scheme_history(draw: st.DrawFn, number: int) -> list[Envelope]:
    """One scheme's events as a tracker admits them: recorded in order, each recorded on or
    after the day it occurred, some of them months late and back-dated."""
    scheme_id = f"S-{number}"
    budget = draw(st.integers(10, 500)) * 1000
    first_source = draw(st.sampled_from(SOURCES))
    split = draw(st.sampled_from([budget, budget // 2, 0]))  # some budget unallocated
    registered_on = draw(st.integers(0, 200))
    recorded = registered_on + draw(st.sampled_from([0, 0, 3, 90]))
    history = [
        registered(
            scheme_id,
            on=on(registered_on),
            recorded_on=on(recorded),
            budget=str(budget),
            funding=[{"source": first_source, "amount": str(split)}] if split else [],
            baseline_completion=on(draw(st.integers(150, 330))),
        )
    ]
    started = False
    for _ in range(draw(st.integers(0, 6))):
        recorded += draw(st.integers(0, 40))
        occurred = recorded - draw(st.sampled_from([0, 0, 1, 10, 60, 120]))
        kind = draw(st.sampled_from(["budget", "forecast", "completion", "start", "progress"]))
        common = {"scheme_id": scheme_id, "recorded_on": on(recorded)}
        if kind == "budget":
            amount = str(draw(st.integers(1, 50)) * 1000)
            source = draw(st.sampled_from(SOURCES))
            history.append(
                event(
                    "budget.changed",
                    on(occurred),
                    amount=amount,
                    funding_source=source,
                    reason="variation",
                    **common,
                )
            )
        elif kind == "forecast":
            forecast = str(max(budget + draw(st.integers(-20, 80)) * 1000, 0))
            history.append(
                event(
                    "forecast.revised",
                    on(occurred),
                    forecast_outturn=forecast,
                    reason="valuation",
                    **common,
                )
            )
        elif kind == "completion":
            history.append(
                event(
                    "completion.revised",
                    on(occurred),
                    anticipated_completion=on(draw(st.integers(150, 420))),
                    reason="contractor programme",
                    **common,
                )
            )
        elif kind == "start" and not started:
            started = True
            history.append(event("scheme.started", on(max(occurred, registered_on)), **common))
        else:
            history.append(event("progress.reported", on(occurred), note="on site", **common))
    return history


histories = st.integers(1, 3).flatmap(
    lambda schemes: st.tuples(*(scheme_history(number) for number in range(1, schemes + 1)))
)


def near(days: list[dt.date]) -> st.SearchStrategy[dt.date | None]:
    """None (now), any date, or a day either side of one of `days`: where cuts matter."""
    return st.one_of(
        st.none(),
        st.integers(0, 450).map(lambda offset: FIRST + dt.timedelta(offset)),
        st.tuples(st.sampled_from(days), st.integers(-1, 1)).map(
            lambda pick: pick[0] + dt.timedelta(pick[1])
        ),
    )


def delivered(schemes: tuple[list[Envelope], ...]) -> list[Envelope]:
    """Every scheme's events in its own order, schemes interleaved by the day recorded."""
    return sorted(itertools.chain(*schemes), key=lambda e: e.recorded_on)


_databases = itertools.count()


def tracked(events: list[Envelope], folder: Path) -> SessionFactory:
    """A projection the tracker wrote from `events`, every one of them applied."""
    engine = make_engine(f"sqlite:///{folder}/positions-{next(_databases)}.db")
    SQLModel.metadata.create_all(engine)
    sessions = session_factory(engine)
    clock = dt.datetime.combine(TODAY, dt.time(12), dt.UTC)
    tracker = SchemeTracker(sessions, RagPolicy(), lambda: TODAY, lambda: clock)
    for one in events:
        outcome = tracker.handle(to_message(one).value)
        assert isinstance(outcome, Applied), outcome
    return sessions


def folded(events: list[Envelope], shown: Position) -> dict[str, SchemeState]:
    by_scheme: dict[str, list[Envelope]] = defaultdict(list)
    for one in events:
        by_scheme[one.scheme_id].append(one)
    return {
        scheme_id: state
        for scheme_id, history in by_scheme.items()
        if (state := shown.fold(history)) is not None
    }


def budget_figures(states: dict[str, SchemeState]) -> Iterator[tuple[str, Decimal]]:
    """Budget per source (zero lines left out), the total budget and forecast, and the
    number of schemes: what budget by source reports, worked out from the states."""
    by_source: dict[str, Decimal] = defaultdict(Decimal)
    for state in states.values():
        for source, amount in state.budget_by_source().items():
            by_source[source] += amount
    yield from sorted((source, amount) for source, amount in by_source.items() if amount)
    yield (f"{TOTAL} budget", sum((s.budget for s in states.values()), Decimal(0)))
    yield (f"{TOTAL} forecast", sum((s.effective_forecast for s in states.values()), Decimal(0)))
    yield (f"{TOTAL} schemes", Decimal(len(states)))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(schemes=histories, data=st.data(), later=st.integers(1, 200))
def test_sql_position_equals_the_fold_and_grows_with_what_is_known(
    schemes: tuple[list[Envelope], ...], data: st.DataObject, later: int, tmp_path: Path
) -> None:
    events = delivered(schemes)
    as_at = data.draw(near([e.occurred_on for e in events]), label="as_at")
    known_on = data.draw(near([e.recorded_on for e in events]), label="known_on")
    sessions = tracked(events, tmp_path)
    scope = ReportScope(as_at=as_at, known_on=known_on)
    shown = scope.position(as_at or TODAY)
    expected = folded(events, shown)
    with sessions() as session:
        stored = {state.scheme_id: state for state in scheme_states(session, shown)}
        report = budget_by_source(session, scope)
        live = {state.scheme_id: state for state in scheme_states(session)}

    # The projection folds the same position the pure fold does...
    assert stored == expected
    # ...and SQL aggregates the same figures from the version and movement rows.
    reported = [(row.funding_source, row.budget) for row in report.rows if row.budget]
    reported += [
        (f"{TOTAL} budget", report.total.budget),
        (f"{TOTAL} forecast", report.total.forecast_outturn),
        (f"{TOTAL} schemes", Decimal(report.total.schemes)),
    ]
    assert sorted(reported[:-3]) + reported[-3:] == list(budget_figures(expected))

    # Knowing more never takes a scheme or an event out of a position.
    if known_on is not None:
        more = folded(events, Position(shown.judged_on, as_at, known_on + dt.timedelta(later)))
        assert set(expected) <= set(more)
        assert all(expected[s].events_applied <= more[s].events_applied for s in expected)

    # Everything that occurred, as known now, is what the tracker stored.
    assert folded(events, Position(TODAY)) == live
