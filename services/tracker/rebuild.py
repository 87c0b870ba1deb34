"""Rebuilding the projection: every event replayed through today's fold into fresh tables
beside the live ones, then swapped in at once (`projection.rebuild`).

Used after a change of RAG rules or of the fold, or to repair a damaged read model. Events
come from the applied-event log (`LogSource`) or from the scheme-events topic (a source
the application builds on Kafka). Nothing is emitted: no state change, so no alert is
raised again. The tracker carries on while the fresh tables fill; at the swap it waits a
moment while the rebuild brings them up to date with what it applied meanwhile.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Connection, delete, exists, select

from events import DecodeError, Envelope
from events.codec import decode_envelope, decode_stored
from programme.rag import RagPolicy
from programme.scheme import EventRejected, SchemeState, admit, apply
from projection.event_log import stored_change_json
from projection.rebuild import FreshTables, row_count
from services.tracker.handlers import (
    EVENTS,
    ID_CHUNK,
    MOVEMENTS,
    SCHEMES,
    VERSIONS,
    _funding_movements,
    _scheme_row,
    _version_row,
    event_values,
    state_change,
)

PAGE = 5_000

Logged = tuple[bytes | str, str | None]
"""An event as a source holds it (the envelope's text) and the state-change message stored
when the tracker applied it (None when the source does not know it)."""


class EventSource(Protocol):
    history: bool
    """True for the applied-event log: every event in it was applied, so one today's fold
    refuses stops the rebuild. A topic also holds what the tracker refused: skipped."""

    def total(self, connection: Connection) -> int:
        """Events the source holds now (for the progress bar)."""
        ...

    def pages(self, connection: Connection) -> Iterator[list[Logged]]:
        """The events from where the last call stopped to the end the source has now."""
        ...

    def stragglers(self, connection: Connection, fresh: FreshTables) -> set[str]:
        """Schemes with events the pages missed (committed out of order meanwhile)."""
        ...

    def histories(self, connection: Connection, scheme_ids: set[str]) -> Iterator[list[Logged]]:
        """The whole history of `scheme_ids`, in order."""
        ...

    def close(self) -> None: ...


class RebuildRefused(Exception):
    """Today's fold refuses events of the log: swapping in would drop them."""

    def __init__(self, refused: list[tuple[str, str]]) -> None:
        shown = "; ".join(f"{event_id}: {reason}" for event_id, reason in refused[:5])
        more = f" (and {len(refused) - 5} more)" if len(refused) > 5 else ""
        super().__init__(
            f"{len(refused)} logged event(s) are refused by the fold as it is now, so the "
            f"projection was left as it was: {shown}{more}"
        )
        self.refused = refused


@dataclass
class RebuildReport:
    events: int = 0
    schemes: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """Events a topic holds that the fold refuses (as the tracker did): id (or line), why."""
    seconds: float = 0.0


class LogSource:
    """The applied-event log, `scheme_event`, in the order applied."""

    history = True

    def __init__(self, page_size: int = PAGE) -> None:
        self._after = 0
        self._page_size = page_size

    def total(self, connection: Connection) -> int:
        return row_count(connection, EVENTS)

    def pages(self, connection: Connection) -> Iterator[list[Logged]]:
        while True:
            query = (
                select(EVENTS.c.seq, EVENTS.c.envelope_json, EVENTS.c.state_change_json)
                .where(EVENTS.c.seq > self._after)
                .order_by(EVENTS.c.seq)
                .limit(self._page_size)
            )
            rows = connection.execute(query).all()
            if not rows:
                return
            self._after = rows[-1].seq
            yield [(row.envelope_json, row.state_change_json) for row in rows]

    def stragglers(self, connection: Connection, fresh: FreshTables) -> set[str]:
        # Aliased: on PostgreSQL both tables are called scheme_event (in two schemas).
        live, copied = EVENTS.alias("live"), fresh.table(EVENTS).alias("copied")
        missed = select(live.c.scheme_id).where(
            ~exists().where(copied.c.event_id == live.c.event_id)
        )
        return set(connection.execute(missed.distinct()).scalars())

    def histories(self, connection: Connection, scheme_ids: set[str]) -> Iterator[list[Logged]]:
        ordered = sorted(scheme_ids)
        query = (
            select(EVENTS.c.envelope_json, EVENTS.c.state_change_json)
            .where(EVENTS.c.scheme_id.in_(ordered))
            .order_by(EVENTS.c.seq)
        )
        rows = connection.execute(query).all()
        for start in range(0, len(rows), PAGE):
            yield [(row.envelope_json, row.state_change_json) for row in rows[start : start + PAGE]]

    def close(self) -> None:
        pass


class Replay:
    """Today's fold of a source's events, written page by page into the fresh tables."""

    def __init__(
        self,
        fresh: FreshTables,
        source: EventSource,
        policy: RagPolicy,
        today: dt.date,
        now: dt.datetime,
        latest: dt.datetime,
    ) -> None:
        self.fresh, self.source = fresh, source
        self._policy, self._today, self._now, self._latest = policy, today, now, latest
        self.states: dict[str, tuple[SchemeState, int]] = {}
        self.report = RebuildReport()
        self.refused: list[tuple[str, str]] = []
        self._next_seq = 1
        self._seen: set[str] = set()  # a topic may hold an event twice (redelivered)

    def fold(self, connection: Connection, page: list[Logged]) -> None:
        events: list[dict[str, object]] = []
        versions: list[dict[str, object]] = []
        movements: list[dict[str, object]] = []
        stored = {} if self.source.history else self._stored_changes(connection, page)
        for envelope_text, change_json in page:
            event = self._decoded(envelope_text)
            if event is None:
                continue
            event_id = str(event.event_id)
            if not self.source.history:
                if event_id in self._seen:
                    continue
                self._seen.add(event_id)
            held = self.states.get(event.scheme_id)
            before = held[0] if held else None
            try:
                # The log was admitted already: replay it. A topic is admitted as new.
                if self.source.history:
                    after = apply(before, event)
                else:
                    after = admit(before, event, self._latest, self._today)
            except EventRejected as error:
                (self.refused if self.source.history else self.report.skipped).append(
                    (event_id, str(error))
                )
                continue
            seq = self._next_seq
            self._next_seq += 1
            if change_json is None:
                change_json = stored.get(event_id) or stored_change_json(
                    state_change(event, before, after, self._today, self._policy)
                )
            events.append(event_values(event, seq, change_json, self._now))
            versions.append(_version_row(after, event, seq))
            movements.extend(_funding_movements(event, before, after, seq))
            self.states[event.scheme_id] = (after, seq)
        for live, rows in ((EVENTS, events), (VERSIONS, versions), (MOVEMENTS, movements)):
            self.fresh.insert(connection, live, rows)
        self.report.events += len(events)

    def forget(self, connection: Connection, scheme_ids: set[str]) -> None:
        """Drop what was folded of `scheme_ids`, to fold their histories again."""
        ordered = sorted(scheme_ids)
        for live in (EVENTS, VERSIONS, MOVEMENTS):
            table = self.fresh.table(live)
            for start in range(0, len(ordered), ID_CHUNK):
                chunk = ordered[start : start + ID_CHUNK]
                gone = connection.execute(delete(table).where(table.c.scheme_id.in_(chunk)))
                if live is EVENTS:
                    self.report.events -= gone.rowcount
        for scheme_id in scheme_ids:
            self.states.pop(scheme_id, None)

    def write_schemes(self, connection: Connection) -> None:
        rows = [_scheme_row(state, seq, self._now) for state, seq in self.states.values()]
        for start in range(0, len(rows), PAGE):
            self.fresh.insert(connection, SCHEMES, rows[start : start + PAGE])
        self.report.schemes = len(rows)

    def _decoded(self, envelope_text: bytes | str) -> Envelope | None:
        if self.source.history:
            return decode_stored(envelope_text)
        try:
            return decode_envelope(envelope_text)
        except DecodeError as error:
            self.report.skipped.append(("(not an event)", error.reason))
            return None

    def _stored_changes(self, connection: Connection, page: list[Logged]) -> dict[str, str]:
        """What the tracker stored for the events of a topic's page that it applied: the
        messages it emitted are kept as they were."""
        ids = []
        for envelope_text, _ in page:
            try:
                ids.append(str(decode_envelope(envelope_text).event_id))
            except DecodeError:
                continue
        found: dict[str, str] = {}
        for start in range(0, len(ids), ID_CHUNK):
            query = select(EVENTS.c.event_id, EVENTS.c.state_change_json).where(
                EVENTS.c.event_id.in_(ids[start : start + ID_CHUNK])
            )
            found.update({row.event_id: row.state_change_json for row in connection.execute(query)})
        return found


def rebuild_projection(
    fresh: FreshTables,
    source: EventSource,
    policy: RagPolicy,
    today: dt.date,
    now: dt.datetime,
    latest: dt.datetime,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> RebuildReport:
    """Replay `source` into `fresh` tables and swap them in. `progress(done, total)` is
    called after each page. RebuildRefused (and the live projection untouched) when
    today's fold refuses events of the log."""
    started = time.perf_counter()
    fresh.create()
    replay = Replay(fresh, source, policy, today, now, latest)
    try:
        with fresh.engine.connect() as connection:
            total = source.total(connection)
            connection.commit()
        _replay_in_pages(replay, lambda done: progress(done, max(total, done)))
        with fresh.swapping() as connection:
            for rows in source.pages(connection):  # what the tracker applied meanwhile
                replay.fold(connection, rows)
            missed = source.stragglers(connection, fresh)
            if missed:
                replay.forget(connection, missed)
                for rows in source.histories(connection, missed):
                    replay.fold(connection, rows)
            if replay.refused:
                raise RebuildRefused(replay.refused)
            replay.write_schemes(connection)
            progress(replay.report.events, replay.report.events)
    except BaseException:
        fresh.discard()
        raise
    replay.report.seconds = time.perf_counter() - started
    return replay.report


def _replay_in_pages(replay: Replay, progress: Callable[[int], None]) -> None:
    """Each page read and written in a transaction of its own, committed before the next
    (and before `progress` hears of it): the live tables are never held for long, and
    memory stays one page. (SQLite takes its write lock before reading: a transaction
    that read and then writes fails if the tracker wrote in between.)"""
    fresh = replay.fresh
    with fresh.engine.connect() as connection:
        pages = replay.source.pages(connection)
        while True:
            if not fresh.postgres:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            rows = next(pages, None)
            if rows is not None:
                replay.fold(connection, rows)
            connection.commit()
            if rows is None:
                return
            progress(replay.report.events)
