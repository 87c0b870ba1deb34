"""The applied-event log (`scheme_event`): numbering new events and storing the message
each emitted without a second full copy of the event."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from events import SchemeStateChanged, decode_as


def next_event_seqs(session: Session, count: int) -> list[int]:
    """`count` new event numbers, ascending, for a batch written in the caller's write
    transaction. PostgreSQL draws them from the column's sequence (so concurrent writers
    never share one); SQLite holds its write lock (`write_transaction`), so the numbers
    after the highest are free."""
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        drawn = session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence('scheme_event', 'seq')) "
                "FROM generate_series(1, :count)"
            ),
            {"count": count},
        )
        return sorted(value for (value,) in drawn)
    highest = session.execute(text("SELECT coalesce(max(seq), 0) FROM scheme_event")).scalar_one()
    return list(range(highest + 1, highest + 1 + count))


def stored_change_json(change: SchemeStateChanged) -> str:
    """The state change as stored beside its event: without `cause`, which is the event
    itself, already stored in `envelope_json`."""
    return change.model_dump_json(exclude={"cause"})


def stored_state_change(change_json: str, envelope_json: str) -> SchemeStateChanged:
    """The message an event emitted, from what was stored: `stored_change_json` with the
    event put back as its cause, or a whole message as earlier releases stored it. Only
    the message's own top level has a `"cause"` key (snapshots key their dictionaries by
    RAG box), and quotes inside JSON strings are escaped, so the test is exact."""
    if '"cause":' not in change_json:
        change_json = '{"cause":' + envelope_json + "," + change_json.lstrip()[1:]
    return decode_as(SchemeStateChanged, change_json, stored=True)
