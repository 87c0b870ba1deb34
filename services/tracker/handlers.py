"""The tracker: applies each scheme event to the SQL projection, exactly once in effect.

`SchemeTracker.handle(raw)` is the one entry point both transports call with the bytes they
received. In one transaction it records the event id, the new state, the figures for
`--as-of` reports and the state-change message; a redelivered event changes nothing and
hands back the stored message, so a crash between commit and publish loses nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from events import DecodeError, Envelope, EventType, SchemeStateChanged, decode_as, encode
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
from projection.database import SessionFactory, transaction, write_transaction
from projection.dead_letters import record_dead_letter
from projection.references import seed_names
from projection.tables import FundingMovement, Scheme, SchemeEvent, SchemeVersion
from projection.views import stored_state

log = logging.getLogger(__name__)


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

    def handle(self, raw: bytes, source: str = "scheme-events") -> Outcome:
        try:
            event = decode_envelope(raw)
        except DecodeError as error:
            return self._refuse(Refused(error.reason, raw), source)
        if event.recorded_at is None:
            event = event.model_copy(update={"recorded_at": self._now()})
        try:
            return self._apply_once(event)
        except EventRejected as error:
            return self._refuse(
                Refused(str(error), raw, str(event.event_id), event.scheme_id), source
            )

    def _apply_once(self, event: Envelope) -> Applied | Duplicate:
        """Two publishers or workers applying the same event (or registering the same
        scheme) at the same moment meet on the unique key: the loser rolls back and, on
        its second pass, finds the event stored (a Duplicate) or the scheme registered."""
        try:
            return self._apply(event)
        except IntegrityError:
            log.info("event %s stored concurrently elsewhere; checking again", event.event_id)
            return self._apply(event)

    def _apply(self, event: Envelope) -> Applied | Duplicate:
        with write_transaction(self._sessions) as session:
            # Lock the scheme before asking whether the event was seen: whoever applied it
            # concurrently held the lock until its commit, so the question sees its answer.
            row = session.exec(
                select(Scheme).where(Scheme.scheme_id == event.scheme_id).with_for_update()
            ).first()
            seen = session.exec(
                select(SchemeEvent).where(SchemeEvent.event_id == str(event.event_id))
            ).first()
            if seen is not None:
                if not event.same_event_as(decode_stored(seen.envelope_json)):
                    raise EventRejected(
                        f"event_id {event.event_id} was already used for a different event"
                    )
                emitted = decode_as(SchemeStateChanged, seen.state_change_json, stored=True)
                return Duplicate(emitted)
            before = stored_state(session, row) if row else None
            today = self._today()
            after = admit(before, event, self._latest_recorded_at(), today)
            # Both snapshots are judged as at the event's own date (never after today), so
            # the message says what the event changed then: an old history published now
            # is not judged overdue by the wall clock. The daily sweep judges today.
            judged_on = min(event.occurred_on, today)
            change = SchemeStateChanged(
                message_id=SchemeStateChanged.message_id_for(event.event_id),
                scheme_id=event.scheme_id,
                cause=event,
                previous=snapshot(before, judged_on, self._policy) if before else None,
                current=snapshot(after, judged_on, self._policy),
            )
            stored = SchemeEvent(
                event_id=str(event.event_id),
                scheme_id=event.scheme_id,
                type=event.type.value,
                occurred_on=event.occurred_on,
                recorded_at=event.recorded_at or self._now(),
                recorded_on=event.recorded_on,
                actor=event.actor,
                envelope_json=event.model_dump_json(),
                state_change_json=encode(change).decode("utf-8"),
            )
            session.add(stored)
            session.flush()
            assert stored.seq is not None
            session.add(_scheme_row(row, after, stored.seq, self._now()))
            session.add(_version_row(after, event, stored.seq))
            for movement in _funding_movements(event, before, after, stored.seq):
                session.add(movement)
            # Names in use join the deployment's lists (the first registrations seed them).
            seed_names(session, names_in(event), event.actor or "tracker", self._now())
            return Applied(change)

    def _refuse(self, refused: Refused, source: str) -> Refused:
        log.info("refused event %s from %s: %s", refused.event_id, source, refused.reason)
        with transaction(self._sessions) as session:
            record_dead_letter(
                session,
                source=source,
                reason=refused.reason,
                raw=refused.raw,
                at=self._now(),
                event_id=refused.event_id,
                scheme_id=refused.scheme_id,
            )
        return refused


def _scheme_row(row: Scheme | None, state: SchemeState, seq: int, now: dt.datetime) -> Scheme:
    values: dict[str, Any] = {
        "title": state.title,
        "status": state.status.value,
        "programme": state.programme,
        "project_manager": state.project_manager,
        "public_sensitivity": state.public_sensitivity.value,
        "registered_on": state.registered_on,
        "baseline_completion": state.baseline_completion,
        "anticipated_completion": state.anticipated_completion,
        "actual_completion": state.actual_completion,
        "original_budget": state.original_budget,
        "budget": state.budget,
        "forecast_outturn": state.effective_forecast,
        "open_snags": len(state.open_snags),
        "completion_revisions": state.completion_revisions,
        "last_seq": seq,
        "state_json": dump_state(state),
        "updated_at": now,
    }
    if row is None:
        return Scheme(scheme_id=state.scheme_id, **values)
    for name, value in values.items():
        setattr(row, name, value)
    return row


def _version_row(state: SchemeState, event: Envelope, seq: int) -> SchemeVersion:
    return SchemeVersion(
        scheme_id=state.scheme_id,
        seq=seq,
        event_type=event.type.value,
        occurred_on=event.occurred_on,
        recorded_on=event.recorded_on,
        status=state.status.value,
        baseline_completion=state.baseline_completion,
        anticipated_completion=state.anticipated_completion,
        actual_completion=state.actual_completion,
        budget=state.budget,
        forecast_outturn=state.effective_forecast,
    )


def _funding_movements(
    event: Envelope, before: SchemeState | None, after: SchemeState, seq: int
) -> list[FundingMovement]:
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
        FundingMovement(
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
