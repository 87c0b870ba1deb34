"""The event envelope: one JSON object per scheme event.

`event_id` makes delivery idempotent. `type` chooses the payload model; a few aliases are
accepted and normalised to the canonical name so stored history always uses one spelling.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from events import payloads as p
from events.limits import Line, Moment, SchemeDate, is_stored
from events.wire import wire_problems

ENVELOPE_VERSION: Literal[1] = 1
"""The envelope's wire version. Released schemas are in events/schemas/; a change that would
break them needs the next version, read beside this one (docs/events.md, "Changing the
contract")."""


class EventType(StrEnum):
    scheme_registered = "scheme.registered"
    scheme_started = "scheme.started"
    phase_completed = "phase.completed"
    snagging_raised = "snagging.raised"
    snagging_cleared = "snagging.cleared"
    budget_changed = "budget.changed"
    forecast_revised = "forecast.revised"
    completion_revised = "completion.revised"
    scheme_rebaselined = "scheme.rebaselined"
    progress_reported = "progress.reported"
    scheme_completed = "scheme.completed"
    scheme_handed_over = "scheme.handed_over"
    scheme_on_hold = "scheme.on_hold"
    scheme_resumed = "scheme.resumed"
    scheme_cancelled = "scheme.cancelled"
    rag_overridden = "rag.overridden"
    scheme_amended = "scheme.amended"
    budget_transferred = "budget.transferred"


PAYLOAD_MODELS: dict[EventType, type[p.Payload]] = {
    EventType.scheme_registered: p.SchemeRegistered,
    EventType.scheme_started: p.Empty,
    EventType.phase_completed: p.PhaseCompleted,
    EventType.snagging_raised: p.SnaggingRaised,
    EventType.snagging_cleared: p.SnaggingCleared,
    EventType.budget_changed: p.BudgetChanged,
    EventType.forecast_revised: p.ForecastRevised,
    EventType.completion_revised: p.CompletionRevised,
    EventType.scheme_rebaselined: p.SchemeRebaselined,
    EventType.progress_reported: p.ProgressReported,
    EventType.scheme_completed: p.Empty,
    EventType.scheme_handed_over: p.Empty,
    EventType.scheme_on_hold: p.WithReason,
    EventType.scheme_resumed: p.WithReason,
    EventType.scheme_cancelled: p.WithReason,
    EventType.rag_overridden: p.RagOverridden,
    EventType.scheme_amended: p.SchemeAmended,
    EventType.budget_transferred: p.BudgetTransferred,
}

TYPE_ALIASES: dict[str, EventType] = {
    "scheme.practically_completed": EventType.scheme_completed,
    "practical_completion": EventType.scheme_completed,
    "snag.raised": EventType.snagging_raised,
    "snag.cleared": EventType.snagging_cleared,
    "scheme.paused": EventType.scheme_on_hold,
}

SchemeId = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"
    ),
]


def canonical_type(name: str) -> EventType:
    """The canonical event type for a name or alias; ValueError names the unknown type."""
    if name in TYPE_ALIASES:
        return TYPE_ALIASES[name]
    try:
        return EventType(name)
    except ValueError:
        known = ", ".join(t.value for t in EventType)
        raise ValueError(f"unknown event type {name!r} (known: {known})") from None


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: uuid.UUID
    type: EventType
    scheme_id: SchemeId
    occurred_on: SchemeDate
    recorded_at: Moment | None = None
    actor: Line | None = None
    # Who submitted the event when it is not the actor's own doing: an administrator
    # recording on someone's behalf, or `operator:<account>` for the command line run
    # against the database by an operator.
    recorded_by: Line | None = None
    payload: SerializeAsAny[p.Payload] = Field(default_factory=p.Empty)
    version: Literal[1] = ENVELOPE_VERSION

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any, info: ValidationInfo) -> Any:
        """No text in an event may hold a NUL character: it means nothing in a council's
        records, and PostgreSQL cannot store it (the tracker would fail on the event).
        What this product stored was checked on the way in."""
        if is_stored(info):
            return data
        where = _nul_at(data)
        if where is not None:
            raise ValueError(f"{where or 'event'} contains a NUL character")
        return data

    @field_validator("recorded_at")
    @classmethod
    def _in_utc_range(cls, value: dt.datetime | None) -> dt.datetime | None:
        """Stored in UTC: a time at the very ends of the calendar with an offset that
        takes it past them cannot be."""
        if value is not None:
            try:
                value.astimezone(dt.UTC)
            except OverflowError:
                raise ValueError("out of range once converted to UTC") from None
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _typed_payload(
        cls, data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Envelope:
        """Validate the payload with the model its type names, reporting problems in the
        envelope and in the payload together (`payload.budget: ...`)."""
        if not isinstance(data, dict) or isinstance(data.get("payload"), p.Payload):
            return handler(data)
        data = dict(data)
        # The wire form is checked on the way in; what this product stored and encoded
        # itself is read back without it (the reports decode every event of a position).
        stored = is_stored(info)
        wire = [] if stored else _wire(cls, data, ())
        problems: list[InitErrorDetails] = []
        payload = data.get("payload")
        payload = {} if payload is None else payload
        data["payload"] = p.Empty()
        raw_type = data.get("type")
        try:
            event_type = canonical_type(raw_type) if isinstance(raw_type, str) else None
        except ValueError as error:
            problems.append(_problem(("type",), raw_type, str(error)))
            event_type = None
        payload_problems: list[InitErrorDetails] = []
        if event_type is not None:
            data["type"] = event_type
            model = PAYLOAD_MODELS[event_type]
            payload_problems = [] if stored else _wire(model, payload, ("payload",))
            try:
                data["payload"] = model.model_validate(payload, context=info.context)
            except ValidationError as error:
                payload_problems = _merge(_nested("payload", error), payload_problems)
        try:
            envelope = handler(data)
        except ValidationError as error:
            problems = _merge(problems, _nested(None, error))
            envelope = None
        problems = [*_merge(problems, wire), *payload_problems]
        if problems or envelope is None:
            raise ValidationError.from_exception_data(cls.__name__, problems)
        return envelope

    @model_validator(mode="after")
    def _payload_matches_type(self) -> Envelope:
        expected = PAYLOAD_MODELS[self.type]
        if not isinstance(self.payload, expected):
            raise ValueError(f"payload for {self.type.value} must be {expected.__name__}")
        return self

    def same_event_as(self, other: Envelope) -> bool:
        """Whether `other` is this event delivered again: equal but for the stamps the edge
        adds on the way (`actor`, `recorded_at`, `recorded_by`). A different event reusing
        the id is not."""
        stamps = {"actor", "recorded_at", "recorded_by"}
        return self.model_dump(exclude=stamps) == other.model_dump(exclude=stamps)

    @property
    def recorded_on(self) -> dt.date:
        """The date the system learnt of the event: what `--as-of` filters on."""
        return (self.recorded_at or dt.datetime.combine(self.occurred_on, dt.time())).date()


def _nul_at(value: Any, path: str = "") -> str | None:
    """The path of the first string in `value` that holds a NUL character, else None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, BaseModel):  # a payload already typed by the wrap validator
        value = value.model_dump()
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list | tuple):
        items = list(enumerate(value))
    else:
        return None
    for key, item in items:
        label = f"{path}.{key}" if path else str(key)
        found = _nul_at(key, label) if isinstance(key, str) else None
        found = found if found is not None else _nul_at(item, label)
        if found is not None:
            return found
    return None


def new_event(
    event_type: EventType | str,
    scheme_id: str,
    occurred_on: dt.date,
    payload: dict[str, Any] | None = None,
    *,
    actor: str | None = None,
    recorded_at: dt.datetime | None = None,
    event_id: uuid.UUID | None = None,
) -> Envelope:
    return Envelope.model_validate(
        {
            "event_id": event_id or uuid.uuid4(),
            "type": event_type,
            "scheme_id": scheme_id,
            "occurred_on": occurred_on,
            "recorded_at": recorded_at,
            "actor": actor,
            "payload": payload or {},
        }
    )


def _problem(loc: tuple[str | int, ...], value: Any, message: str) -> InitErrorDetails:
    return {
        "type": PydanticCustomError("invalid", "{message}", {"message": message}),
        "loc": loc,
        "input": value,
    }


def _wire(model: type[BaseModel], data: Any, loc: tuple[str, ...]) -> list[InitErrorDetails]:
    return [_problem(where, None, message) for where, message in wire_problems(model, data, loc)]


def _merge(first: list[InitErrorDetails], more: list[InitErrorDetails]) -> list[InitErrorDetails]:
    """`first`, then the problems of `more` at places `first` does not already name: pydantic's
    own message first where it has one, the wire form's where pydantic was lenient."""
    if not more:  # the usual case, a valid event: nothing to merge
        return first
    reported = {tuple(problem["loc"]) for problem in first}
    return [*first, *(problem for problem in more if tuple(problem["loc"]) not in reported)]


def _nested(prefix: str | None, error: ValidationError) -> list[InitErrorDetails]:
    """Re-home another model's errors under `prefix`, keeping their messages."""
    return [
        _problem(((prefix,) if prefix else ()) + tuple(e["loc"]), e.get("input"), e["msg"])
        for e in error.errors()
    ]
