"""The tracker applying batches, on SQLite and PostgreSQL: what a batch does must be what
the same events one at a time would have done."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlmodel import col, func, select

from capital.application.publishing import to_message
from events import Envelope
from programme.scheme import SchemeState, fold
from projection.tables import DeadLetter, FundingMovement, SchemeEvent, SchemeVersion
from projection.views import scheme_states
from services.tracker.handlers import Applied, Duplicate, Refused
from tests.builders import event, registered
from tests.streams import generated_programme

TODAY = dt.date(2024, 7, 29)


def raw(envelope: Envelope) -> bytes:
    return to_message(envelope).value


def folded(events: list[Envelope]) -> dict[str, SchemeState]:
    by_scheme: dict[str, list[Envelope]] = defaultdict(list)
    for envelope in events:
        by_scheme[envelope.scheme_id].append(envelope)
    return {scheme_id: fold(history) for scheme_id, history in by_scheme.items()}


def test_a_batch_gives_each_message_its_outcome_in_order_and_a_refusal_spoils_nothing_else(
    make_container, database_url
):
    container = make_container(database_url, today=TODAY)
    first, second = registered("S-1"), registered("S-2", budget="50000")
    started = event("scheme.started", "2024-02-01", scheme_id="S-1")
    container.tracker.handle_batch([raw(first)])  # applied in an earlier batch
    never_raised = event("snagging.cleared", "2024-03-01", scheme_id="S-2", snag_id="SN-9")
    raised = event(
        "snagging.raised", "2024-03-02", scheme_id="S-2", snag_id="SN-1", description="x"
    )
    impostor = started.model_copy(update={"scheme_id": "S-2"})
    batch = [
        raw(second),
        raw(first),  # applied before: a duplicate
        b"{not json",
        raw(started),
        raw(never_raised),  # refused by the fold; S-2's later events still apply
        raw(raised),
        raw(started),  # twice in one batch: a duplicate of what this batch applied
        raw(impostor),  # the same event id for a different event
    ]
    outcomes = container.tracker.handle_batch(batch)

    kinds = [type(outcome).__name__ for outcome in outcomes]
    assert kinds == [
        "Applied",
        "Duplicate",
        "Refused",
        "Applied",
        "Refused",
        "Applied",
        "Duplicate",
        "Refused",
    ]
    assert isinstance(outcomes[1], Duplicate) and outcomes[1].change is not None
    assert outcomes[1].change.cause == first  # the stored message, its event put back
    assert isinstance(outcomes[6], Duplicate) and isinstance(outcomes[3], Applied)
    assert outcomes[6].change == outcomes[3].change
    assert isinstance(outcomes[4], Refused) and "SN-9" in outcomes[4].reason
    assert isinstance(outcomes[7], Refused) and "already used" in outcomes[7].reason
    assert isinstance(outcomes[5], Applied) and outcomes[5].change.current.open_snags == 1

    with container.sessions() as session:
        states = {state.scheme_id: state for state in scheme_states(session)}
        letters = session.exec(select(DeadLetter.event_id).order_by(col(DeadLetter.id))).all()
        seqs = session.exec(select(SchemeEvent.seq).order_by(col(SchemeEvent.seq))).all()
    assert states == folded([first, second, started, raised])
    assert letters == [None, str(never_raised.event_id), str(impostor.event_id)]
    assert seqs == [1, 2, 3, 4]


def test_a_long_stream_in_batches_gives_the_fold_and_the_rows_of_one_at_a_time(
    make_container, database_url, tmp_path
):
    events = generated_programme(schemes=12, events_per_scheme=20)
    batched = make_container(database_url, today=TODAY)
    for start in range(0, len(events), 37):
        outcomes = batched.tracker.handle_batch([raw(e) for e in events[start : start + 37]])
        assert all(isinstance(outcome, Applied) for outcome in outcomes)
    one_at_a_time = make_container(f"sqlite:///{tmp_path / 'single.db'}", today=TODAY)
    for envelope in events:
        assert isinstance(one_at_a_time.tracker.handle(raw(envelope)), Applied)

    def rows(container) -> dict[str, object]:
        with container.sessions() as session:
            return {
                "states": {state.scheme_id: state for state in scheme_states(session)},
                "versions": session.exec(select(func.count()).select_from(SchemeVersion)).one(),
                "movements": session.exec(
                    select(FundingMovement.scheme_id, FundingMovement.amount).order_by(
                        col(FundingMovement.seq)
                    )
                ).all(),
            }

    assert rows(batched) == rows(one_at_a_time)
    assert rows(batched)["states"] == folded(events)


def test_two_trackers_taking_turns_on_a_scheme_each_build_on_the_others_writes(
    make_container, database_url
):
    here, there = (make_container(database_url, today=TODAY) for _ in range(2))
    history = [
        registered("S-1"),
        event("scheme.started", "2024-02-01"),
        event("budget.changed", "2024-02-02", funding_source="DfE", amount="5000", reason="x"),
        event("progress.reported", "2024-02-03", note="walls up"),
        event("budget.changed", "2024-02-04", funding_source="DfE", amount="-2000", reason="y"),
    ]
    for number, envelope in enumerate(history):
        tracker = (here if number % 2 == 0 else there).tracker
        assert isinstance(tracker.handle_batch([raw(envelope)])[0], Applied)
    with here.sessions() as session:
        assert {state.scheme_id: state for state in scheme_states(session)} == folded(history)
