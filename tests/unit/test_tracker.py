"""The tracker on the embedded default: projection, idempotency, refusals."""

from __future__ import annotations

import json

from sqlmodel import func, select

from capital.application.publishing import to_message
from events import Rag, SchemeStateChanged, decode_as, topics
from programme.position import Position
from projection.tables import DeadLetter, SchemeEvent
from projection.views import scheme_snapshots, scheme_state
from services.tracker.handlers import Applied, Duplicate, Refused
from tests.builders import day, event, registered


def send(container, *events):
    container.publisher.send([to_message(e) for e in events])


def count(container, table) -> int:
    with container.sessions() as session:
        return session.exec(select(func.count()).select_from(table)).one()


def test_the_same_event_delivered_twice_changes_nothing(container):
    slipped = event(
        "completion.revised", "2024-02-01", anticipated_completion="2024-08-30", reason="late steel"
    )
    send(container, registered(), slipped)
    first = container.tracker.handle(to_message(slipped).value)
    assert isinstance(first, Duplicate)
    assert first.change is not None and first.change.cause.event_id == slipped.event_id
    send(container, slipped)
    assert count(container, SchemeEvent) == 2
    with container.sessions() as session:
        assert scheme_state(session, "S-1").completion_revisions == 1


def test_state_changes_carry_previous_and_current_rag(container):
    send(container, registered(baseline_completion="2024-09-30"))
    slipped = event(
        "completion.revised", "2024-02-01", anticipated_completion="2024-11-30", reason="late steel"
    )
    outcome = container.tracker.handle(to_message(slipped).value)
    assert isinstance(outcome, Applied)
    change = outcome.change
    assert change.message_id == SchemeStateChanged.message_id_for(slipped.event_id)
    assert change.previous.programme_rag is Rag.green
    assert change.current.programme_rag is Rag.red
    assert change.current.slippage_days == 61


def test_the_bus_emits_a_state_change_per_applied_event(container):
    send(container, registered(), event("scheme.started", "2024-02-01"))
    emitted = [m for m in container.publisher.delivered if m.topic == topics.STATE_CHANGES]
    assert len(emitted) == 2
    change = decode_as(SchemeStateChanged, emitted[-1].value)
    assert change.current.status == "on_site"
    assert emitted[-1].key == b"S-1"


def test_poison_and_impossible_events_are_dead_lettered_and_the_stream_goes_on(container):
    container.tracker.handle(b"\xff\xfe not json")
    outcome = container.tracker.handle(to_message(event("scheme.started", "2024-02-01")).value)
    assert isinstance(outcome, Refused) and "unknown scheme" in outcome.reason
    send(container, registered())
    with container.sessions() as session:
        letters = session.exec(select(DeadLetter)).all()
        assert [("not valid JSON" in d.reason, d.scheme_id) for d in letters] == [
            (True, None),
            (False, "S-1"),
        ]
        assert scheme_state(session, "S-1") is not None


def test_a_refused_event_redelivered_is_recorded_once(container):
    orphan = event("scheme.started", "2024-02-01", scheme_id="NOPE")
    container.tracker.handle(to_message(orphan).value)
    container.tracker.handle(to_message(orphan).value)
    assert count(container, DeadLetter) == 1
    send(container, orphan)
    letter = json.loads(
        next(m.value for m in container.publisher.delivered if m.topic == topics.DEAD_LETTERS)
    )
    assert letter["event_id"] == str(orphan.event_id)
    assert "unknown scheme NOPE" in letter["reason"]


def test_as_of_shows_what_was_known_on_a_past_date(container):
    send(
        container,
        registered(on="2024-01-01", baseline_completion="2024-06-30"),
        event(
            "completion.revised",
            "2024-03-01",
            recorded_on="2024-03-02",
            anticipated_completion="2024-09-30",
            reason="late steel",
        ),
    )
    with container.sessions() as session:
        then = scheme_snapshots(session, Position.as_of(day("2024-03-01")), container.settings.rag)
        now = scheme_snapshots(session, Position(day("2024-03-02")), container.settings.rag)
    assert then[0].anticipated_completion is None and then[0].programme_rag is Rag.green
    assert now[0].anticipated_completion == day("2024-09-30")
    assert now[0].programme_rag is Rag.red


def test_a_different_event_reusing_an_event_id_is_refused_not_dropped(container):
    slipped = event(
        "completion.revised", "2024-02-01", anticipated_completion="2024-11-30", reason="late steel"
    )
    send(container, registered(), slipped)
    impostor = slipped.model_copy(update={"scheme_id": "S-2"})
    outcome = container.tracker.handle(to_message(impostor).value)
    assert isinstance(outcome, Refused)
    assert "already used for a different event" in outcome.reason
    restamped = slipped.model_copy(update={"actor": "someone.else"})
    assert isinstance(container.tracker.handle(to_message(restamped).value), Duplicate)


def test_history_cannot_be_back_dated(container):
    send(container, registered(on="2024-03-01"))
    late = event("scheme.started", "2024-02-01", recorded_on="2024-02-15")
    outcome = container.tracker.handle(to_message(late).value)
    assert isinstance(outcome, Refused)
    assert "history cannot be back-dated" in outcome.reason
