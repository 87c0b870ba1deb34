"""Read side of the projection: scheme states now or in a position on both time axes."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from events import Envelope, EventType, SchemeSnapshot
from events.codec import decode_stored
from programme.board import SchemeFilter
from programme.position import Position
from programme.rag import RagPolicy, snapshot
from programme.scheme import SchemeState, fold, load_state
from projection.tables import DeadLetter, Scheme, SchemeEvent


def scheme_states(session: Session, position: Position | None = None) -> list[SchemeState]:
    """Every scheme's state now, or in `position`: its events that occurred by the as-at
    date and were recorded by the known-on date, folded in the order they were applied."""
    if position is None or position.is_now:
        rows = session.exec(select(Scheme).order_by(Scheme.scheme_id)).all()
        return [stored_state(session, row) for row in rows]
    by_scheme: dict[str, list[Envelope]] = defaultdict(list)
    for event in _events(session, position):
        by_scheme[event.scheme_id].append(event)
    return [
        state
        for scheme_id in sorted(by_scheme)
        if (state := position.fold(by_scheme[scheme_id])) is not None
    ]


def stored_state(session: Session, row: Scheme) -> SchemeState:
    """The state the tracker stored for a scheme; one stored by an earlier release, which
    lacks what the fold now keeps, is folded again from the scheme's events."""
    state = load_state(row.state_json)
    if state.is_current:
        return state
    return fold(_events(session, scheme_id=row.scheme_id)) or state


def scheme_snapshots(
    session: Session,
    position: Position,
    policy: RagPolicy,
    wanted: SchemeFilter | None = None,
) -> list[SchemeSnapshot]:
    """The board: every scheme (or those `wanted` picks) in `position`, judged on its
    judging date."""
    judged = [
        (state, snapshot(state, position.judged_on, policy))
        for state in scheme_states(session, position)
    ]
    return [shown for state, shown in judged if wanted is None or wanted.matches(state, shown)]


def scheme_state(
    session: Session, scheme_id: str, position: Position | None = None
) -> SchemeState | None:
    if position is None or position.is_now:
        row = session.get(Scheme, scheme_id)
        return stored_state(session, row) if row else None
    return position.fold(_events(session, position, scheme_id))


def scheme_history(
    session: Session, scheme_id: str, position: Position | None = None
) -> list[Envelope]:
    """The scheme's events in `position` (all, when None), in the order they were applied."""
    return _events(session, position, scheme_id)


def scheme_histories(
    session: Session,
    known_on: dt.date | None = None,
    as_at: dt.date | None = None,
    types: Sequence[EventType] | None = None,
) -> dict[str, list[Envelope]]:
    """Each scheme's events (of `types`, else all) recorded by the end of `known_on` and
    occurred by `as_at` (None: everything), in the order they were applied: what a
    position, or the changes between two positions, is folded from."""
    query = select(SchemeEvent.scheme_id, SchemeEvent.envelope_json).order_by(col(SchemeEvent.seq))
    if types is not None:
        query = query.where(col(SchemeEvent.type).in_([kind.value for kind in types]))
    histories: dict[str, list[Envelope]] = defaultdict(list)
    for scheme_id, text in session.exec(_in_position(query, known_on, as_at)):
        histories[scheme_id].append(decode_stored(text))
    return dict(histories)


def known_scheme_ids(session: Session) -> set[str]:
    return set(session.exec(select(Scheme.scheme_id)).all())


def event_outcomes(session: Session, event_ids: list[str]) -> dict[str, str | None]:
    """What the tracker did with each of `event_ids` it has finished with: None when the
    event was applied, else the reason it was refused. Unfinished ids are absent."""
    outcomes: dict[str, str | None] = {}
    for start in range(0, len(event_ids), 500):
        chunk = event_ids[start : start + 500]
        refused = select(DeadLetter.event_id, DeadLetter.reason).where(
            DeadLetter.event_id.in_(chunk)  # type: ignore[union-attr]
        )
        found = session.exec(refused)
        outcomes.update({event_id: reason for event_id, reason in found if event_id})
        applied = select(SchemeEvent.event_id).where(SchemeEvent.event_id.in_(chunk))  # type: ignore[attr-defined]
        outcomes.update({event_id: None for event_id in session.exec(applied)})
    return outcomes


def stored_events(session: Session, event_ids: list[str]) -> dict[str, Envelope]:
    """The applied events among `event_ids`, by id."""
    found: dict[str, Envelope] = {}
    for start in range(0, len(event_ids), 500):
        chunk = event_ids[start : start + 500]
        query = select(SchemeEvent.event_id, SchemeEvent.envelope_json).where(
            SchemeEvent.event_id.in_(chunk)  # type: ignore[attr-defined]
        )
        found.update({event_id: decode_stored(text) for event_id, text in session.exec(query)})
    return found


def recent_events(session: Session, like: list[Envelope], today: dt.date) -> list[Envelope]:
    """Events recorded since yesterday of the schemes and types in `like`."""
    found: list[Envelope] = []
    pairs = sorted({(event.scheme_id, event.type.value) for event in like})
    for start in range(0, len(pairs), 200):
        chunk = pairs[start : start + 200]
        query = select(SchemeEvent.envelope_json).where(
            SchemeEvent.recorded_on >= today - dt.timedelta(days=1),
            SchemeEvent.scheme_id.in_({scheme_id for scheme_id, _ in chunk}),  # type: ignore[attr-defined]
            SchemeEvent.type.in_({kind for _, kind in chunk}),  # type: ignore[attr-defined]
        )
        found.extend(decode_stored(text) for text in session.exec(query))
    return found


def dead_letters(session: Session, limit: int = 100) -> list[DeadLetter]:
    return list(session.exec(select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit)))  # type: ignore[union-attr]


def _events(
    session: Session, position: Position | None = None, scheme_id: str | None = None
) -> list[Envelope]:
    query = select(SchemeEvent.envelope_json).order_by(col(SchemeEvent.seq))
    if position is not None:
        query = _in_position(query, position.known_on, position.as_at)
    if scheme_id is not None:
        query = query.where(SchemeEvent.scheme_id == scheme_id)
    return [decode_stored(text) for text in session.exec(query)]


def _in_position(query: Any, known_on: dt.date | None, as_at: dt.date | None) -> Any:
    """`query` kept to events recorded by the end of `known_on` and occurred by `as_at`."""
    if known_on is not None:
        query = query.where(SchemeEvent.recorded_on <= known_on)
    if as_at is not None:
        query = query.where(SchemeEvent.occurred_on <= as_at)
    return query
