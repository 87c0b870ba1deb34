"""Scheme histories turned into the state changes the tracker emits, for rule tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from capital.migrations import upgrade_schema
from events import Envelope, SchemeSnapshot, SchemeStateChanged
from programme.rag import RagPolicy, snapshot
from programme.scheme import SchemeState, apply, fold
from projection.database import SessionFactory, make_engine, session_factory
from tests.builders import day, event, registered

RAISED_AT = dt.datetime(2024, 7, 29, 9, 30, tzinfo=dt.UTC)


@contextmanager
def notifier_database(url: str) -> Iterator[SessionFactory]:
    """Sessions on a fresh database holding every table, the notifier's included."""
    engine = make_engine(url)
    upgrade_schema(engine)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


def cype_018(reason: str = "Asbestos found in the old kitchen ceiling void") -> list[Envelope]:
    """The design's example: a completion revised 70 days past its baseline."""
    return [
        registered("CYPE-018", on="2022-06-30", baseline_completion="2022-10-28", budget="99000"),
        event("scheme.started", "2022-07-11", "CYPE-018", actor="estates.pm"),
        event(
            "completion.revised",
            "2022-10-14",
            "CYPE-018",
            actor="estates.pm",
            anticipated_completion="2023-01-06",
            reason=reason,
        ),
    ]


def state_changes(
    *events: Envelope, today: str, policy: RagPolicy | None = None
) -> list[SchemeStateChanged]:
    """One state change per event, as the tracker emits them with its clock on `today`:
    both snapshots judged as at the event's own date (never after today)."""
    rules = policy or RagPolicy()
    state: SchemeState | None = None
    changes = []
    for cause in events:
        before = state
        state = apply(state, cause)
        judged_on = min(cause.occurred_on, day(today))
        changes.append(
            SchemeStateChanged(
                message_id=SchemeStateChanged.message_id_for(cause.event_id),
                scheme_id=cause.scheme_id,
                cause=cause,
                previous=snapshot(before, judged_on, rules) if before else None,
                current=snapshot(state, judged_on, rules),
            )
        )
    return changes


def last_change(*events: Envelope, today: str) -> SchemeStateChanged:
    return state_changes(*events, today=today)[-1]


def snapshot_after(*events: Envelope, today: str) -> SchemeSnapshot:
    """The scheme after `events`, judged on `today`: what the daily sweep sees."""
    state = fold(list(events))
    assert state is not None
    return snapshot(state, day(today), RagPolicy())
