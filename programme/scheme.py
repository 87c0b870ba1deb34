"""A scheme's state, folded from its events. Pure: no clock, no I/O.

`apply(state, event)` returns the new state or raises `EventRejected` with a reason a
project manager can act on. Events are applied in the order they were recorded; `admit`
also checks, against a clock it is given, that a new event is recorded in that order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, TypeAdapter

from events import Envelope, EventType, Rag, SchemeStatus
from events import payloads as p

UNALLOCATED = "Unallocated"
STATE_VERSION = 2
FINISHED = frozenset({SchemeStatus.complete, SchemeStatus.handed_over, SchemeStatus.cancelled})


class EventRejected(ValueError):
    """An event that is well formed but cannot apply to the scheme as it stands."""


class FundingKind:
    """Where a funding line came from: the approval at registration, a budget change, or
    one side of a transfer between sources."""

    approved = "approved"
    change = "change"
    transfer = "transfer"


@dataclass(frozen=True)
class FundingLine:
    source: str
    amount: Decimal
    approved_on: dt.date | None = None
    kind: str = FundingKind.approved


@dataclass(frozen=True)
class Snag:
    snag_id: str
    description: str
    raised_on: dt.date | None = None
    assignee: str | None = None
    location: str | None = None
    priority: p.SnagPriority | None = None
    due_on: dt.date | None = None
    cleared_on: dt.date | None = None

    def is_overdue(self, today: dt.date) -> bool:
        """Still open after the day it was due."""
        return self.cleared_on is None and self.due_on is not None and today > self.due_on


def _snags_from_pairs(value: Any) -> Any:
    """Scheme states stored before snags had details held (snag_id, description) pairs."""
    if isinstance(value, list | tuple):
        return [
            {"snag_id": item[0], "description": item[1]} if isinstance(item, list | tuple) else item
            for item in value
        ]
    return value


Snags = Annotated[tuple[Snag, ...], BeforeValidator(_snags_from_pairs)]


@dataclass(frozen=True)
class FieldChange:
    """One field an amendment changed, as text a person reads (dates ISO)."""

    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class Amendment:
    event_id: str
    on: dt.date
    actor: str | None
    reason: str
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class Override:
    value: Rag
    reason: str
    actor: str | None
    on: dt.date


@dataclass(frozen=True)
class SchemeState:
    scheme_id: str
    title: str
    status: SchemeStatus
    registered_on: dt.date
    original_budget: Decimal
    budget: Decimal
    funding: tuple[FundingLine, ...] = ()
    forecast_outturn: Decimal | None = None
    baseline_start: dt.date | None = None
    baseline_completion: dt.date | None = None
    actual_start: dt.date | None = None
    anticipated_completion: dt.date | None = None
    actual_completion: dt.date | None = None
    handed_over_on: dt.date | None = None
    contractor: str | None = None
    contract_length: str | None = None
    project_manager: str | None = None
    public_sensitivity: p.PublicSensitivity = p.PublicSensitivity.low
    description: str | None = None
    programme: str | None = None
    phases_completed: tuple[str, ...] = ()
    open_snags: Snags = ()
    cleared_snags: tuple[Snag, ...] = ()
    progress_note: str | None = None
    percent_complete: int | None = None
    progress_on: dt.date | None = None
    completion_revisions: int = 0
    status_reason: str | None = None
    overrides: tuple[tuple[str, Override], ...] = ()
    forecast_reason: str | None = None
    amendments: tuple[Amendment, ...] = ()
    events_applied: int = 0
    last_event_on: dt.date | None = None
    last_recorded_on: dt.date | None = None
    # States stored before funding lines knew their kind (approval, change, transfer) load
    # as version 1: readers fold those schemes again from their events (`is_current`).
    version: int = 1

    @property
    def is_current(self) -> bool:
        return self.version >= STATE_VERSION

    @property
    def effective_forecast(self) -> Decimal:
        """Forecast outturn defaults to the budget until a `forecast.revised`."""
        return self.budget if self.forecast_outturn is None else self.forecast_outturn

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def override_map(self) -> dict[str, Override]:
        return dict(self.overrides)

    def budget_by_source(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for line in self.funding:
            totals[line.source] = totals.get(line.source, Decimal(0)) + line.amount
        return totals

    @property
    def approvals(self) -> tuple[FundingLine, ...]:
        """The funding approved at registration (with any approval date amended since)."""
        return tuple(line for line in self.funding if line.kind == FundingKind.approved)

    def overdue_snags(self, today: dt.date) -> tuple[Snag, ...]:
        return tuple(snag for snag in self.open_snags if snag.is_overdue(today))


CLOCK_SKEW = dt.timedelta(minutes=5)
"""How far ahead of our clock a producer's `recorded_at` may be and still be believed."""


def recorded_in_future(recorded_at: dt.datetime | None, latest: dt.datetime) -> str | None:
    """Why an event stamped `recorded_at` cannot be believed when nothing can have been
    recorded after `latest` (now, give or take a clock's skew). None when it can."""
    if recorded_at is not None and recorded_at > latest:
        return (
            f"recorded_at {recorded_at.isoformat()} is in the future "
            f"(nothing can be recorded after {latest.isoformat(timespec='seconds')})"
        )
    return None


def admit(
    state: SchemeState | None, event: Envelope, latest: dt.datetime, today: dt.date
) -> SchemeState:
    """Apply an event being recorded now, as the tracker does; `apply` alone replays
    history already admitted.

    What was known on a date must stay what it was, so an event cannot be recorded before
    one already applied (or `--as-of` would rewrite history), and nothing may claim to be
    recorded after `latest` (now, give or take a clock's skew). A scheme whose last event
    was stored with a future `recorded_at` (before such stamps were refused) is judged
    against today instead of that date: later events, such as a cancellation, still apply
    and the scheme is never frozen."""
    future = recorded_in_future(event.recorded_at, latest)
    if future:
        raise EventRejected(future)
    if state is not None and state.last_recorded_on is not None:
        floor = min(state.last_recorded_on, today)
        if event.recorded_on < floor:
            raise EventRejected(
                f"recorded on {event.recorded_on}, before events of {state.scheme_id} already "
                f"recorded on {floor}: history cannot be back-dated"
            )
    return apply(state, event)


def apply(state: SchemeState | None, event: Envelope) -> SchemeState:
    if event.type is EventType.scheme_registered:
        if state is not None:
            raise EventRejected(f"scheme {event.scheme_id} is already registered")
        return _registered(event)
    if state is None:
        raise EventRejected(
            f"unknown scheme {event.scheme_id}: register it (scheme.registered) first"
        )
    if state.status is SchemeStatus.cancelled and event.type not in _ALLOWED_WHEN_CANCELLED:
        raise EventRejected(f"scheme {state.scheme_id} is cancelled")
    new_state = _APPLY[event.type](state, event.payload, event)
    return _evolve(
        new_state,
        events_applied=state.events_applied + 1,
        last_event_on=max(state.last_event_on or event.occurred_on, event.occurred_on),
        last_recorded_on=event.recorded_on,
    )


_STATE_FIELDS = frozenset(field.name for field in fields(SchemeState))


def _evolve(state: SchemeState, **changes: Any) -> SchemeState:
    """`dataclasses.replace(state, **changes)` without running `__init__` again: a fold
    makes two new states per event, and `SchemeState.__init__` only assigns its fields, so
    copying them is the same and several times quicker (the reports fold every scheme)."""
    unknown = changes.keys() - _STATE_FIELDS
    if unknown:
        raise TypeError(f"SchemeState has no field(s) {', '.join(sorted(unknown))}")
    evolved = object.__new__(SchemeState)
    evolved.__dict__.update(state.__dict__, **changes)
    return evolved


def fold(events: list[Envelope]) -> SchemeState | None:
    """The state after applying `events` in order, skipping none: rejected events raise."""
    state: SchemeState | None = None
    for event in events:
        state = apply(state, event)
    return state


def _registered(event: Envelope) -> SchemeState:
    body = event.payload
    assert isinstance(body, p.SchemeRegistered)
    return SchemeState(
        scheme_id=event.scheme_id,
        title=body.title,
        status=SchemeStatus.registered,
        registered_on=event.occurred_on,
        original_budget=body.budget,
        budget=body.budget,
        funding=allocate(
            body.budget, [FundingLine(f.source, f.amount, f.approved_on) for f in body.funding]
        ),
        baseline_start=body.baseline_start,
        baseline_completion=body.baseline_completion,
        contractor=body.contractor,
        contract_length=body.contract_length,
        project_manager=body.project_manager,
        public_sensitivity=body.public_sensitivity,
        description=body.description,
        programme=body.programme,
        events_applied=1,
        last_event_on=event.occurred_on,
        last_recorded_on=event.recorded_on,
        version=STATE_VERSION,
    )


def allocate(budget: Decimal, lines: list[FundingLine]) -> tuple[FundingLine, ...]:
    """Funding lines plus any budget whose source split is unknown, held as Unallocated."""
    unallocated = budget - sum((line.amount for line in lines), Decimal(0))
    if unallocated > 0:
        lines = [*lines, FundingLine(UNALLOCATED, unallocated)]
    return tuple(lines)


def _started(state: SchemeState, _: p.Payload, event: Envelope) -> SchemeState:
    if state.actual_start is not None and state.actual_start != event.occurred_on:
        raise EventRejected(f"scheme {state.scheme_id} already started on {state.actual_start}")
    status = SchemeStatus.on_site if state.status is SchemeStatus.registered else state.status
    return _evolve(state, actual_start=event.occurred_on, status=status)


def _phase_completed(state: SchemeState, body: p.PhaseCompleted, _: Envelope) -> SchemeState:
    if body.phase in state.phases_completed:
        return state
    return _evolve(state, phases_completed=(*state.phases_completed, body.phase))


def _snag_raised(state: SchemeState, body: p.SnaggingRaised, event: Envelope) -> SchemeState:
    snags = {snag.snag_id: snag for snag in state.open_snags}
    snags[body.snag_id] = Snag(
        snag_id=body.snag_id,
        description=body.description,
        raised_on=event.occurred_on,
        assignee=body.assignee,
        location=body.location,
        priority=body.priority,
        due_on=body.due_on,
    )
    return _evolve(state, open_snags=tuple(snags.values()))


def _snag_cleared(state: SchemeState, body: p.SnaggingCleared, event: Envelope) -> SchemeState:
    snags = {snag.snag_id: snag for snag in state.open_snags}
    if body.snag_id not in snags:
        raise EventRejected(f"snag {body.snag_id!r} is not open on scheme {state.scheme_id}")
    cleared = replace(snags.pop(body.snag_id), cleared_on=event.occurred_on)
    return _evolve(
        state,
        open_snags=tuple(snags.values()),
        cleared_snags=(*state.cleared_snags, cleared),
    )


def _budget_changed(state: SchemeState, body: p.BudgetChanged, event: Envelope) -> SchemeState:
    budget = state.budget + body.amount
    if budget < 0:
        raise EventRejected(
            f"budget change of {body.amount} would make the budget of {state.scheme_id} negative"
        )
    line = FundingLine(body.funding_source, body.amount, event.occurred_on, FundingKind.change)
    return _evolve(state, budget=budget, funding=(*state.funding, line))


def _budget_transferred(
    state: SchemeState, body: p.BudgetTransferred, event: Envelope
) -> SchemeState:
    if body.from_source.casefold() == body.to_source.casefold():
        raise EventRejected(
            f"a transfer moves money between two sources: {body.from_source!r} and "
            f"{body.to_source!r} are the same"
        )
    held = state.budget_by_source()
    available = held.get(body.from_source, Decimal(0))
    if body.amount > available:
        sources = ", ".join(f"{name} {amount}" for name, amount in held.items()) or "none"
        raise EventRejected(
            f"transferring {body.amount} from {body.from_source} would take it below zero: "
            f"{state.scheme_id} holds {available} from {body.from_source} (sources: {sources})"
        )
    on = event.occurred_on
    moved = (
        FundingLine(body.from_source, -body.amount, on, FundingKind.transfer),
        FundingLine(body.to_source, body.amount, on, FundingKind.transfer),
    )
    return _evolve(state, funding=(*state.funding, *moved))


def _forecast_revised(state: SchemeState, body: p.ForecastRevised, _: Envelope) -> SchemeState:
    return _evolve(state, forecast_outturn=body.forecast_outturn, forecast_reason=body.reason)


def _completion_revised(state: SchemeState, body: p.CompletionRevised, _: Envelope) -> SchemeState:
    if state.anticipated_completion == body.anticipated_completion:
        return state
    return _evolve(
        state,
        anticipated_completion=body.anticipated_completion,
        # With no baseline at registration, the first anticipated date becomes the baseline.
        baseline_completion=state.baseline_completion or body.anticipated_completion,
        completion_revisions=state.completion_revisions + 1,
    )


def _rebaselined(state: SchemeState, body: p.SchemeRebaselined, _: Envelope) -> SchemeState:
    return _evolve(state, baseline_completion=body.baseline_completion)


def _progress(state: SchemeState, body: p.ProgressReported, event: Envelope) -> SchemeState:
    # The percentage belongs to the report that gave it: a later note without one must not
    # be printed beside an old figure as if it were today's. A completed scheme stays 100%.
    completed = 100 if state.actual_completion is not None else None
    return _evolve(
        state,
        progress_note=body.note,
        percent_complete=body.percent_complete if body.percent_complete is not None else completed,
        progress_on=event.occurred_on,
    )


def _completed(state: SchemeState, _: p.Payload, event: Envelope) -> SchemeState:
    if state.actual_start is not None and event.occurred_on < state.actual_start:
        raise EventRejected(
            f"completion on {event.occurred_on} is before the actual start {state.actual_start}"
        )
    status = SchemeStatus.handed_over if state.handed_over_on else SchemeStatus.complete
    return _evolve(state, actual_completion=event.occurred_on, status=status, percent_complete=100)


def _handed_over(state: SchemeState, _: p.Payload, event: Envelope) -> SchemeState:
    if state.actual_completion is None:
        raise EventRejected(
            f"scheme {state.scheme_id} cannot be handed over before practical completion"
        )
    return _evolve(state, handed_over_on=event.occurred_on, status=SchemeStatus.handed_over)


def _on_hold(state: SchemeState, body: p.WithReason, _: Envelope) -> SchemeState:
    if state.is_finished:
        raise EventRejected(f"scheme {state.scheme_id} is {state.status.value}")
    return _evolve(state, status=SchemeStatus.on_hold, status_reason=body.reason)


def _resumed(state: SchemeState, body: p.WithReason, _: Envelope) -> SchemeState:
    if state.status is not SchemeStatus.on_hold:
        raise EventRejected(f"scheme {state.scheme_id} is not on hold")
    status = SchemeStatus.on_site if state.actual_start else SchemeStatus.registered
    return _evolve(state, status=status, status_reason=body.reason)


def _cancelled(state: SchemeState, body: p.WithReason, _: Envelope) -> SchemeState:
    return _evolve(state, status=SchemeStatus.cancelled, status_reason=body.reason)


def _rag_overridden(state: SchemeState, body: p.RagOverridden, event: Envelope) -> SchemeState:
    overrides = state.override_map
    if body.value is None:
        overrides.pop(body.which, None)
    else:
        overrides[body.which] = Override(body.value, body.reason, event.actor, event.occurred_on)
    return _evolve(state, overrides=tuple(sorted(overrides.items())))


def _amended(state: SchemeState, body: p.SchemeAmended, event: Envelope) -> SchemeState:
    about_funding = body.approved_on is not None or body.renamed_to is not None
    if (body.funding_source is None) == about_funding:
        raise EventRejected(
            "funding_source goes with approved_on (a funding approval) or renamed_to"
        )
    if not body.changes():
        raise EventRejected(
            "an amendment names at least one field to change: " + ", ".join(p.AMENDABLE_FIELDS)
        )
    updates: dict[str, Any] = {}
    changes: list[FieldChange] = []
    for name, value in body.changes().items():
        if name in ("approved_on", "renamed_to"):
            continue
        if getattr(state, name) != value:
            updates[name] = value
            changes.append(FieldChange(name, _text(getattr(state, name)), _text(value)))
    funding = state.funding
    if body.funding_source is not None and body.approved_on is not None:
        funding, change = _approved(state, body.funding_source, body.approved_on)
        changes.extend([change] if change else [])
    if body.funding_source is not None and body.renamed_to is not None:
        funding, change = _renamed(state, funding, body.funding_source, body.renamed_to)
        changes.append(change)
    if funding != state.funding:
        updates["funding"] = funding
    if not changes:
        raise EventRejected(
            f"the amendment changes nothing: {state.scheme_id} already has those values"
        )
    amendment = Amendment(
        str(event.event_id), event.occurred_on, event.actor, body.reason, tuple(changes)
    )
    return _evolve(state, **updates, amendments=(*state.amendments, amendment))


def _approved(
    state: SchemeState, source: str, approved_on: dt.date | None
) -> tuple[tuple[FundingLine, ...], FieldChange | None]:
    """The funding with `source`'s approval dated `approved_on`, and the change made."""
    approved = [line for line in state.approvals if line.source == source]
    if not approved:
        known = ", ".join(line.source for line in state.approvals) or "none"
        raise EventRejected(
            f"{state.scheme_id} has no funding approved from {source!r} (sources: {known})"
        )
    if all(line.approved_on == approved_on for line in approved):
        return state.funding, None
    funding = tuple(
        replace(line, approved_on=approved_on) if line in approved else line
        for line in state.funding
    )
    old = approved[0].approved_on
    return funding, FieldChange(f"approval of {source}", _text(old), _text(approved_on))


def _renamed(
    state: SchemeState, funding: tuple[FundingLine, ...], source: str, new_name: str
) -> tuple[tuple[FundingLine, ...], FieldChange]:
    """Every funding line of `source` under `new_name`, and the change made."""
    if not any(line.source == source for line in funding):
        known = ", ".join(state.budget_by_source()) or "none"
        raise EventRejected(
            f"{state.scheme_id} has no funding from {source!r} to rename (sources: {known})"
        )
    renamed = tuple(
        replace(line, source=new_name) if line.source == source else line for line in funding
    )
    return renamed, FieldChange("funding source", source, new_name)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(getattr(value, "value", value))


_APPLY: dict[EventType, Any] = {
    EventType.scheme_started: _started,
    EventType.phase_completed: _phase_completed,
    EventType.snagging_raised: _snag_raised,
    EventType.snagging_cleared: _snag_cleared,
    EventType.budget_changed: _budget_changed,
    EventType.forecast_revised: _forecast_revised,
    EventType.completion_revised: _completion_revised,
    EventType.scheme_rebaselined: _rebaselined,
    EventType.progress_reported: _progress,
    EventType.scheme_completed: _completed,
    EventType.scheme_handed_over: _handed_over,
    EventType.scheme_on_hold: _on_hold,
    EventType.scheme_resumed: _resumed,
    EventType.scheme_cancelled: _cancelled,
    EventType.rag_overridden: _rag_overridden,
    EventType.scheme_amended: _amended,
    EventType.budget_transferred: _budget_transferred,
}

# A cancelled scheme's record can still be corrected (a wrong title, a sensitive address).
_ALLOWED_WHEN_CANCELLED = frozenset(
    {EventType.progress_reported, EventType.rag_overridden, EventType.scheme_amended}
)


def public_sensitivity_on(events: list[Envelope], on: dt.date | None) -> p.PublicSensitivity | None:
    """A scheme's public sensitivity in effect on `on` (None: latest), by the dates its
    registration and amendments occurred, whenever they were recorded: a scheme marked
    highly sensitive today stays hidden from public positions on or after that date,
    even when printed as known before it was recorded. None before it was registered."""
    sensitivity: p.PublicSensitivity | None = None
    dated = sorted(enumerate(events), key=lambda item: (item[1].occurred_on, item[0]))
    for _, event in dated:
        if on is not None and event.occurred_on > on:
            break
        body = event.payload
        if isinstance(body, p.SchemeRegistered | p.SchemeAmended):
            sensitivity = body.public_sensitivity or sensitivity
    return sensitivity


_STATE_JSON = TypeAdapter(SchemeState)


def dump_state(state: SchemeState) -> str:
    return _STATE_JSON.dump_json(state).decode("utf-8")


def load_state(text: str) -> SchemeState:
    return _STATE_JSON.validate_json(text)
