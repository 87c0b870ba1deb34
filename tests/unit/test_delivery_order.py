"""Property: however the transport delivers a history (each scheme's events in order, schemes
interleaved any way, in batches of any size, redelivered any number of times), the embedded
tracker and notifier end in the same state and raise the same alerts, held, superseded or
raised, before and after the morning's sweep."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from capital.application.publishing import to_message
from capital.bootstrap import Container, bootstrap
from capital.settings import Settings
from events import Envelope, new_event
from projection.tables import Scheme
from services.notifier.store import Alert

TODAY = dt.date(2024, 7, 29)
ID_SPACE = uuid.UUID("3a5d8f0e-2b8c-4e59-9a0f-5c1d2e3f4a5b")
PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

Alerts = frozenset[tuple[str, str, str, str, str]]
Outcome = tuple[dict[str, str], Alerts, Alerts]


def envelope(scheme: str, n: int, kind: str, on: dt.date, recorded: dt.date, **body) -> Envelope:
    return new_event(
        kind,
        scheme,
        on,
        body,
        actor="pm.tester",
        recorded_at=dt.datetime.combine(recorded, dt.time(12), dt.UTC),
        event_id=uuid.uuid5(ID_SPACE, f"{scheme}:{n}"),
    )


@st.composite
def scheme_history(draw: st.DrawFn, scheme: str) -> list[Envelope]:
    """A scheme's events in the order they were recorded: some on the day they happened,
    then (from a drawn point) a backlog recorded only today."""
    on = TODAY - dt.timedelta(days=draw(st.integers(0, 150)))
    baseline = on + dt.timedelta(days=draw(st.integers(20, 150)))
    steps = draw(st.lists(st.sampled_from(["revise", "forecast", "start", "rag"]), max_size=6))
    backlog_from = draw(st.integers(0, len(steps) + 1))

    def recorded(n: int, day: dt.date) -> dt.date:
        return TODAY if n >= backlog_from else day

    budget = Decimal(100000)
    history = [
        envelope(scheme, 0, "scheme.registered", on, recorded(0, on), title=f"Scheme {scheme}",
                 budget=str(budget), funding=[{"source": "CCIP6", "amount": str(budget)}],
                 baseline_completion=baseline.isoformat())
    ]  # fmt: skip
    started = False
    for n, step in enumerate(steps, start=1):
        on = min(on + dt.timedelta(days=draw(st.integers(0, 45))), TODAY)
        when = recorded(n, on)
        if step == "revise":
            to = baseline + dt.timedelta(days=draw(st.integers(-20, 120)))
            body = {"anticipated_completion": to.isoformat(), "reason": "Ground conditions"}
            history.append(envelope(scheme, n, "completion.revised", on, when, **body))
        elif step == "forecast":
            share = draw(st.sampled_from(["0.97", "1.03", "1.12"]))
            body = {"forecast_outturn": str(budget * Decimal(share)), "reason": "Tenders"}
            history.append(envelope(scheme, n, "forecast.revised", on, when, **body))
        elif step == "rag":
            value = draw(st.sampled_from(["green", "amber", "red"]))
            body = {"which": "overall", "value": value, "reason": "Head of capital's view"}
            history.append(envelope(scheme, n, "rag.overridden", on, when, **body))
        elif not started:
            started = True
            history.append(envelope(scheme, n, "scheme.started", on, when))
    return history


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[list[Envelope]], list[list[Envelope]]]:
    """The histories, and one way the transport may deliver them, in batches."""
    count = draw(st.integers(1, 3))
    histories = [draw(scheme_history(f"S-{n}")) for n in range(1, count + 1)]
    pending = [list(history) for history in histories]
    order: list[Envelope] = []
    while any(pending):
        chosen = draw(st.sampled_from([queue for queue in pending if queue]))
        order.append(chosen.pop(0))
    for _ in range(draw(st.integers(0, 5))):  # a redelivery comes after its first delivery
        at = draw(st.integers(1, len(order)))
        order.insert(at, draw(st.sampled_from(order[:at])))
    cuts = sorted(set(draw(st.lists(st.integers(1, len(order)), max_size=len(order)))))
    edges = [0, *cuts, len(order)]
    batches = [order[start:end] for start, end in pairwise(edges) if end > start]
    return histories, batches


@pytest.fixture(scope="module")
def empty_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database at the current schema, copied for every run (migrating is the slow part)."""
    folder = tmp_path_factory.mktemp("template")
    bootstrap(Settings(database_url=f"sqlite:///{folder / 'capital.db'}", today=TODAY)).close()
    return folder


@contextmanager
def embedded(template: Path) -> Iterator[Container]:
    """The embedded default (in-memory bus, SQLite) on a fresh copy of the empty database,
    its clock fixed on TODAY."""
    with tempfile.TemporaryDirectory() as folder:
        for name in ("capital.db", "capital.db.key"):
            shutil.copy(template / name, Path(folder) / name)
        container = bootstrap(Settings(database_url=f"sqlite:///{folder}/capital.db", today=TODAY))
        try:
            yield container
        finally:
            container.close()


def alerts(container: Container) -> Alerts:
    """What a reader compares alerts by: kind, scheme, key, severity, and whether each is
    raised, held for the digest or superseded."""
    with container.sessions() as session:
        rows = session.exec(select(Alert))
        return frozenset((r.kind, r.scheme_id, r.dedup_key, r.severity, r.status) for r in rows)


def deliver(template: Path, batches: list[list[Envelope]]) -> Outcome:
    """Send the batches through the embedded bus; the schemes' states, the alerts, and the
    alerts once the morning's sweep has built the digest."""
    with embedded(template) as container:
        for batch in batches:
            container.publisher.send([to_message(event) for event in batch])
        before_sweep = alerts(container)
        container.notifier.sweep.run(TODAY)
        with container.sessions() as session:
            states = {row.scheme_id: row.state_json for row in session.exec(select(Scheme))}
        return states, before_sweep, alerts(container)


@PROPERTY
@given(deliveries())
def test_any_delivery_order_the_transport_allows_gives_the_same_state_and_alerts(
    empty_database: Path, delivery: tuple[list[list[Envelope]], list[list[Envelope]]]
) -> None:
    histories, batches = delivery
    one_at_a_time = [[event] for history in histories for event in history]

    expected = deliver(empty_database, one_at_a_time)
    for status in sorted({alert[-1] for alert in expected[1]}):
        event(f"some alert {status}")

    assert deliver(empty_database, batches) == expected
    states, _, _ = expected
    assert set(states) == {history[0].scheme_id for history in histories}
