"""The tracker: applies scheme events to the SQL projection, exactly once in effect.

`SchemeTracker.handle_batch(raws)` is the entry point both transports call with the bytes
they received, in order; `handle(raw)` is a batch of one. A batch is applied in one
transaction: the schemes it touches are locked, the event ids already applied are found in
one query, each scheme's events are folded in memory in the order received, and the event
ids, the new states, the figures for `--as-of` reports and the state-change messages are
written in bulk. A redelivered event changes nothing and hands back the stored message, so
a crash between commit and publish loses nothing; an event the fold refuses becomes a dead
letter and the rest of the batch still applies.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from events import DecodeError, Envelope, EventType, SchemeSnapshot, SchemeStateChanged
from events import payloads as p
from events.codec import decode_envelope, decode_stored
from programme.rag import RagPolicy, snapshot
from programme.reference import names_in
from programme.scheme import (
    CLOCK_SKEW,
    EventRejected,
    FundingKind,
    FundingLine,
    SchemeState,
    admit,
    dump_state,
)
from projection.database import SessionFactory, write_transaction
from projection.dead_letters import record_dead_letter
from projection.event_log import next_event_seqs, stored_change_json, stored_state_change
from projection.references import seed_attributed_names
from projection.tables import FundingMovement, Scheme, SchemeEvent, SchemeVersion
from projection.views import stored_state

log = logging.getLogger(__name__)

Row = dict[str, Any]
EVENTS = SchemeEvent.__table__  # type: ignore[attr-defined]
VERSIONS = SchemeVersion.__table__  # type: ignore[attr-defined]
MOVEMENTS = FundingMovement.__table__  # type: ignore[attr-defined]
SCHEMES = Scheme.__table__  # type: ignore[attr-defined]
ID_CHUNK = 500
MAX_REMEMBERED = 100_000
"""Schemes whose latest state the tracker keeps in memory (a few KB each)."""
"""Ids per `IN (...)` query: well inside every database's limit on bound parameters."""


@dataclass(frozen=True)
class Applied:
    change: SchemeStateChanged


@dataclass(frozen=True)
class Duplicate:
    """Seen before: nothing changed. `change` is what was emitted then, to emit again."""

    change: SchemeStateChanged | None


@dataclass(frozen=True)
class Refused:
    reason: str
    raw: bytes
    event_id: str | None = None
    scheme_id: str | None = None


Outcome = Applied | Duplicate | Refused


@dataclass(frozen=True)
class _Earlier:
    """An event already applied (before this batch, or earlier in it) and what it emitted."""

    envelope: Envelope
    change: SchemeStateChanged


@dataclass
class _Batch:
    """What a batch changes, gathered while folding and written in bulk at the end."""

    applied: list[tuple[Envelope, SchemeState | None, SchemeState, SchemeStateChanged]] = field(
        default_factory=list
    )
    refused: list[Refused] = field(default_factory=list)
    judged: dict[str, tuple[dt.date, SchemeSnapshot]] = field(default_factory=dict)
    """Each scheme's snapshot after its latest event in the batch, and the day judged."""
    latest: dict[str, tuple[SchemeState, int]] = field(default_factory=dict)
    """Each scheme's state after the batch and its last event's number, once written."""
    state_json: dict[str, str] = field(default_factory=dict)
    """Each scheme's state as written to its row."""


@dataclass(frozen=True)
class _Written:
    """A scheme as this tracker last wrote it: its row's state text, the state, and its
    snapshot on the day it was written."""

    state_json: str
    state: SchemeState
    judged: SchemeSnapshot
    judged_on: dt.date


class SchemeTracker:
    def __init__(
        self,
        sessions: SessionFactory,
        policy: RagPolicy,
        today: Callable[[], dt.date],
        now: Callable[[], dt.datetime],
        latest_recorded_at: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self._sessions = sessions
        self._latest_recorded_at = latest_recorded_at or (lambda: now() + CLOCK_SKEW)
        self._policy = policy
        self._today = today
        self._now = now
        self._recent: dict[str, _Written] = {}

    def handle(self, raw: bytes, source: str = "scheme-events") -> Outcome:
        return self.handle_batch([raw], source)[0]

    def handle_batch(self, raws: Sequence[bytes], source: str = "scheme-events") -> list[Outcome]:
        """Apply `raws` in order, in one transaction; one outcome per message, in order.

        Two publishers or workers applying the same event (or registering the same scheme)
        at the same moment meet on a unique key: the loser rolls back and, on its second
        pass, finds the event stored (a Duplicate) or the scheme registered."""
        received = [self._decoded(raw) for raw in raws]
        try:
            outcomes = self._apply(raws, received, source)
        except IntegrityError:
            log.info("a batch met events stored concurrently elsewhere; checking again")
            outcomes = self._apply(raws, received, source)
        for outcome in outcomes:
            if isinstance(outcome, Refused):
                log.info("refused event %s from %s: %s", outcome.event_id, source, outcome.reason)
        return outcomes

    def _decoded(self, raw: bytes) -> Envelope | Refused:
        try:
            event = decode_envelope(raw)
        except DecodeError as error:
            return Refused(error.reason, raw)
        if event.recorded_at is None:
            event = event.model_copy(update={"recorded_at": self._now()})
        return event

    def _apply(
        self, raws: Sequence[bytes], received: list[Envelope | Refused], source: str
    ) -> list[Outcome]:
        events = [item for item in received if isinstance(item, Envelope)]
        today, now, latest = self._today(), self._now(), self._latest_recorded_at()
        with write_transaction(self._sessions) as session:
            # Lock the schemes before asking which events were seen: whoever applied one
            # concurrently held the lock until its commit, so the question sees its answer.
            rows = _locked_schemes(session, {event.scheme_id for event in events})
            earlier = _applied_before(session, [str(event.event_id) for event in events])
            batch = _Batch()
            states = self._states_of(session, rows, batch, today)
            outcomes: list[Outcome] = []
            for raw, item in zip(raws, received, strict=True):
                outcome = (
                    self._fold(item, raw, states, earlier, batch, today, latest)
                    if isinstance(item, Envelope)
                    else item
                )
                if isinstance(outcome, Refused):
                    batch.refused.append(outcome)
                outcomes.append(outcome)
            _write(session, batch, rows, now)
            for refused in batch.refused:
                record_dead_letter(
                    session,
                    source=source,
                    reason=refused.reason,
                    raw=refused.raw,
                    at=now,
                    event_id=refused.event_id,
                    scheme_id=refused.scheme_id,
                )
        self._remember(batch, today)
        return outcomes

    def _states_of(
        self, session: Session, rows: dict[str, Scheme], batch: _Batch, today: dt.date
    ) -> dict[str, SchemeState]:
        """Each locked scheme's state: as this tracker last wrote it when the row still
        holds that write (its `last_seq`), else read from the row."""
        states: dict[str, SchemeState] = {}
        for scheme_id, row in rows.items():
            held = self._recent.get(scheme_id)
            # The stored text is the test: another writer, or a rebuild, changes it.
            if held is not None and held.state_json == row.state_json:
                states[scheme_id] = held.state
                batch.judged[scheme_id] = (held.judged_on, held.judged)
            else:
                states[scheme_id] = stored_state(session, row)
        return states

    def _remember(self, batch: _Batch, today: dt.date) -> None:
        """What a committed batch wrote, to save reading and judging it again next time.
        Only after the commit: on SQLite a rolled-back event number is used again."""
        if len(self._recent) > MAX_REMEMBERED:
            self._recent.clear()
        for scheme_id, (state, _) in batch.latest.items():
            on, judged = batch.judged[scheme_id]
            self._recent[scheme_id] = _Written(batch.state_json[scheme_id], state, judged, on)

    def _fold(
        self,
        event: Envelope,
        raw: bytes,
        states: dict[str, SchemeState],
        earlier: dict[str, _Earlier],
        batch: _Batch,
        today: dt.date,
        latest: dt.datetime,
    ) -> Outcome:
        event_id = str(event.event_id)
        seen = earlier.get(event_id)
        if seen is not None:
            if not event.same_event_as(seen.envelope):
                reason = f"event_id {event_id} was already used for a different event"
                return Refused(reason, raw, event_id, event.scheme_id)
            return Duplicate(seen.change)
        before = states.get(event.scheme_id)
        try:
            after = admit(before, event, latest, today)
        except EventRejected as error:
            return Refused(str(error), raw, event_id, event.scheme_id)
        # The scheme's snapshot after its previous event, if judged on the same day as
        # this one, is this one's before.
        # snapshot after is this one's before.
        change = state_change(
            event, before, after, today, self._policy, batch.judged.get(event.scheme_id)
        )
        batch.judged[event.scheme_id] = (judged_on(event, today), change.current)
        states[event.scheme_id] = after
        earlier[event_id] = _Earlier(event, change)
        batch.applied.append((event, before, after, change))
        return Applied(change)


def state_change(
    event: Envelope,
    before: SchemeState | None,
    after: SchemeState,
    today: dt.date,
    policy: RagPolicy,
    judged_before: tuple[dt.date, SchemeSnapshot] | None = None,
) -> SchemeStateChanged:
    """What applying `event` tells the world: the scheme before and after, judged as at
    the event's own date (`judged_before`: a snapshot of `before` already made, and the
    day it was judged on)."""
    on = judged_on(event, today)
    previous = None
    if before is not None:
        reusable = judged_before is not None and judged_before[0] == on
        previous = judged_before[1] if judged_before and reusable else snapshot(before, on, policy)
    return SchemeStateChanged(
        message_id=SchemeStateChanged.message_id_for(event.event_id),
        scheme_id=event.scheme_id,
        cause=event,
        previous=previous,
        current=snapshot(after, on, policy),
    )


def judged_on(event: Envelope, today: dt.date) -> dt.date:
    """The day an event's state change is judged on: the event's own date, never after
    today, so the message says what the event changed then (an old history published now
    is not judged overdue by the wall clock; the daily sweep judges today)."""
    return min(event.occurred_on, today)


def _locked_schemes(session: Session, scheme_ids: set[str]) -> dict[str, Scheme]:
    """The schemes' rows, locked `FOR UPDATE` in id order (so two batches sharing schemes
    take their locks in the same order and never deadlock)."""
    rows: dict[str, Scheme] = {}
    ordered = sorted(scheme_ids)
    for start in range(0, len(ordered), ID_CHUNK):
        chunk = ordered[start : start + ID_CHUNK]
        query = (
            select(Scheme)
            .where(col(Scheme.scheme_id).in_(chunk))
            .order_by(col(Scheme.scheme_id))
            .with_for_update()
        )
        rows.update({row.scheme_id: row for row in session.exec(query)})
    return rows


def _applied_before(session: Session, event_ids: list[str]) -> dict[str, _Earlier]:
    """The events among `event_ids` already applied, with the message each emitted."""
    found: dict[str, _Earlier] = {}
    for start in range(0, len(event_ids), ID_CHUNK):
        chunk = event_ids[start : start + ID_CHUNK]
        query = select(
            SchemeEvent.event_id, SchemeEvent.envelope_json, SchemeEvent.state_change_json
        ).where(col(SchemeEvent.event_id).in_(chunk))
        for event_id, envelope_json, change_json in session.exec(query):
            found[event_id] = _Earlier(
                decode_stored(envelope_json), stored_state_change(change_json, envelope_json)
            )
    return found


def _write(session: Session, batch: _Batch, rows: dict[str, Scheme], now: dt.datetime) -> None:
    """The batch's events, versions, funding movements and schemes, in bulk."""
    if not batch.applied:
        return
    seqs = next_event_seqs(session, len(batch.applied))
    events: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    movements: list[dict[str, Any]] = []
    latest = batch.latest
    names: list[tuple[Any, str, str]] = []
    for seq, (event, before, after, change) in zip(seqs, batch.applied, strict=True):
        events.append(event_values(event, seq, stored_change_json(change), now))
        versions.append(_version_row(after, event, seq))
        movements.extend(_funding_movements(event, before, after, seq))
        latest[event.scheme_id] = (after, seq)
        actor = event.actor or "tracker"
        names.extend((kind, name, actor) for kind, name in names_in(event))
    # Core inserts of plain rows: the ORM's objects cost more than the rest of the batch.
    session.execute(EVENTS.insert(), events)
    session.execute(VERSIONS.insert(), versions)
    if movements:
        session.execute(MOVEMENTS.insert(), movements)
    schemes = [_scheme_row(state, seq, now) for state, seq in latest.values()]
    batch.state_json = {values["scheme_id"]: values["state_json"] for values in schemes}
    changed = [values for values in schemes if values["scheme_id"] in rows]
    added = [values for values in schemes if values["scheme_id"] not in rows]
    if changed:
        session.execute(
            SCHEMES.update().where(SCHEMES.c.scheme_id == bindparam("key_scheme_id")),
            [{**values, "key_scheme_id": values["scheme_id"]} for values in changed],
        )
    if added:
        session.execute(SCHEMES.insert(), added)
    # Names in use join the deployment's lists (the first registrations seed them).
    seed_attributed_names(session, names, now)


def event_values(event: Envelope, seq: int, change_json: str, now: dt.datetime) -> dict[str, Any]:
    """The `scheme_event` row of an applied event: the log entry and what it emitted."""
    return {
        "seq": seq,
        "event_id": str(event.event_id),
        "scheme_id": event.scheme_id,
        "type": event.type.value,
        "occurred_on": event.occurred_on,
        "recorded_at": event.recorded_at or now,
        "recorded_on": event.recorded_on,
        "actor": event.actor,
        "envelope_json": event.model_dump_json(),
        "state_change_json": change_json,
    }


def _figures(state: SchemeState) -> Row:
    """What both the scheme row and each version keep of a state: its status, dates and
    money, for queries in SQL."""
    return dict(
        scheme_id=state.scheme_id,
        status=state.status.value,
        baseline_completion=state.baseline_completion,
        anticipated_completion=state.anticipated_completion,
        actual_completion=state.actual_completion,
        budget=state.budget,
        forecast_outturn=state.effective_forecast,
    )


def _scheme_row(state: SchemeState, seq: int, now: dt.datetime) -> Row:
    return dict(
        _figures(state),
        title=state.title,
        programme=state.programme,
        project_manager=state.project_manager,
        public_sensitivity=state.public_sensitivity.value,
        registered_on=state.registered_on,
        original_budget=state.original_budget,
        open_snags=len(state.open_snags),
        completion_revisions=state.completion_revisions,
        last_seq=seq,
        state_json=dump_state(state),
        updated_at=now,
    )


def _version_row(state: SchemeState, event: Envelope, seq: int) -> Row:
    return dict(
        _figures(state),
        seq=seq,
        event_type=event.type.value,
        occurred_on=event.occurred_on,
        recorded_on=event.recorded_on,
    )


def _funding_movements(
    event: Envelope, before: SchemeState | None, after: SchemeState, seq: int
) -> list[Row]:
    body = event.payload
    if event.type is EventType.scheme_registered:
        lines, kind = after.funding, FundingKind.approved
    elif event.type is EventType.budget_changed:
        lines, kind = after.funding[-1:], FundingKind.change
    elif event.type is EventType.budget_transferred:
        lines, kind = after.funding[-2:], FundingKind.transfer
    elif isinstance(body, p.SchemeAmended) and body.funding_source and body.renamed_to:
        # A source renamed on the scheme: what it held moves to the new name.
        held = (before.budget_by_source() if before else {}).get(body.funding_source, Decimal(0))
        lines = (
            FundingLine(body.funding_source, -held, event.occurred_on),
            FundingLine(body.renamed_to, held, event.occurred_on),
        )
        kind = FundingKind.transfer
    else:
        return []
    return [
        dict(
            seq=seq,
            scheme_id=event.scheme_id,
            funding_source=line.source,
            kind=kind,
            amount=line.amount,
            approved_on=line.approved_on,
            occurred_on=event.occurred_on,
            recorded_on=event.recorded_on,
        )
        for line in lines
    ]
