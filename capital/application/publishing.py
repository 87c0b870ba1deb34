"""Publishing scheme events from the edge (CLI, importer, API): validate, attribute, send.

Every line is checked before anything is sent; bad lines are reported by number with the
reason and every valid line is still published. The principal publishing must hold a role that
may record each event (`capital.application.principal`); an event is attributed to them
when it does not name its actor, and marks who really sent it when it does.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import simplejson

from capital.application.principal import (
    Operation,
    Principal,
    attributed,
    recording_refusal,
    require,
)
from capital.bootstrap import Container
from capital.transports import Message
from events import DecodeError, Envelope, EventType, decode_envelope, topics
from programme.scheme import recorded_in_future
from programme.scheme_ids import match_scheme_id, unknown_scheme
from projection.references import reference_lists
from projection.views import (
    dead_letters,
    event_outcomes,
    known_scheme_ids,
    recent_events,
    stored_events,
)


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str


@dataclass
class PublishReport:
    published: list[Envelope] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.pending


CHUNK_EVENTS = 1_000
"""How many lines of a stream are checked and published together: memory stays that of
one chunk however long the input is."""


def parse_lines(
    lines: Iterable[str | bytes],
) -> tuple[list[tuple[int, Envelope]], list[LineError]]:
    events: list[tuple[int, Envelope]] = []
    errors: list[LineError] = []
    for number, line in enumerate(lines, start=1):
        parsed = _parse_line(number, line)
        if isinstance(parsed, LineError):
            errors.append(parsed)
        elif parsed is not None:
            events.append((number, parsed))
    return events, errors


def _parse_line(number: int, line: str | bytes) -> Envelope | LineError | None:
    """The envelope on one line, why it is not one, or None for a blank line."""
    if not line.strip():
        return None
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as error:
            return LineError(number, f"not UTF-8 text: {error.reason} at byte {error.start}")
    try:
        return decode_envelope(line)
    except DecodeError as error:
        return LineError(number, error.reason)


@dataclass
class StreamReport:
    """What became of a stream of lines, in counts: the refused lines themselves went to
    the caller as they were found."""

    published: int = 0
    refused_lines: int = 0
    pending: int = 0

    @property
    def ok(self) -> bool:
        return not self.refused_lines and not self.pending


PublishChunk = Callable[[list[tuple[int, Envelope]]], PublishReport]


def publish_lines(
    lines: Iterable[str | bytes],
    publish_chunk: PublishChunk,
    on_errors: Callable[[list[LineError]], None],
    chunk_size: int = CHUNK_EVENTS,
) -> StreamReport:
    """Publish a stream of JSON Lines a chunk at a time through `publish_chunk` (`publish`
    with its checks and refusals, or the service's API): each chunk is read, checked and
    sent before the next is read, so memory does not grow with the stream. The refused
    lines of each chunk go to `on_errors` in line order, as they are found."""
    report = StreamReport()
    numbered_lines = enumerate(lines, start=1)
    while chunk := list(itertools.islice(numbered_lines, chunk_size)):
        numbered: list[tuple[int, Envelope]] = []
        errors: list[LineError] = []
        for number, line in chunk:
            parsed = _parse_line(number, line)
            if isinstance(parsed, LineError):
                errors.append(parsed)
            elif parsed is not None:
                numbered.append((number, parsed))
        if numbered:
            sent = publish_chunk(numbered)
            report.published += len(sent.published)
            report.pending += len(sent.pending)
            errors.extend(sent.errors)
        if errors:
            errors.sort(key=lambda e: e.line)
            report.refused_lines += len({e.line for e in errors})
            on_errors(errors)
    return report


def publish(
    container: Container,
    numbered: list[tuple[int, Envelope]],
    principal: Principal,
    wait_seconds: float | None = None,
    *,
    again: bool = False,
    registered: set[str] | None = None,
) -> PublishReport:
    """Publish valid events; refuse those for unknown schemes, names not on the
    deployment's lists, and (unless `again`) a change the same user recorded moments
    before. With the in-memory bus the tracker has run when this returns; with Kafka,
    `wait_seconds` waits for it. `registered`: the schemes registered by earlier chunks of
    the same stream, which the tracker may not have applied yet; this call's
    registrations are added to it."""
    report = PublishReport()
    today = container.settings.current_date()
    recorded_at = container.settings.local_now()
    window = dt.timedelta(minutes=container.settings.repeat_window_minutes)
    with container.sessions() as session:
        known = known_scheme_ids(session) | (registered or set())
        stored = stored_events(session, [str(event.event_id) for _, event in numbered])
        names = reference_lists(session)
        checked = not again and window > dt.timedelta(0)
        recent = recent_events(session, [e for _, e in numbered], today) if checked else []
    latest = container.settings.latest_recorded_at()
    line_of: dict[str, int] = {}
    for number, event in numbered:
        scheme_id = match_scheme_id(event.scheme_id, known)
        if scheme_id is not None and scheme_id != event.scheme_id:
            event = event.model_copy(update={"scheme_id": scheme_id})
        problem = recording_refusal(principal, event)
        if problem:
            report.errors.append(LineError(number, problem))
            continue
        problem = (
            _not_acceptable(event, today, stored)
            or recorded_in_future(event.recorded_at, latest)
            or "; ".join(names.problems(event))
            or _repeats(event, event.actor or principal.name, recent, recorded_at - window)
        )
        if problem:
            report.errors.append(LineError(number, problem))
            continue
        if event.type is EventType.scheme_registered:
            known.add(event.scheme_id)
            if registered is not None:
                registered.add(event.scheme_id)
        elif scheme_id is None:
            report.errors.append(LineError(number, unknown_scheme(event.scheme_id, known)))
            continue
        event = event.model_copy(
            update={
                **attributed(principal, event),
                "recorded_at": event.recorded_at or recorded_at,
            }
        )
        line_of[str(event.event_id)] = number
        stored.setdefault(str(event.event_id), event)
        report.published.append(event)
    container.publisher.send([to_message(event) for event in report.published])
    if container.settings.bus == "kafka" and wait_seconds is None:
        return report
    outcomes = _wait_for_tracker(container, list(line_of), wait_seconds or 0)
    report.pending = sorted(set(line_of) - set(outcomes))
    refused = {event_id: reason for event_id, reason in outcomes.items() if reason is not None}
    report.errors.extend(LineError(line_of[event_id], why) for event_id, why in refused.items())
    report.published = [e for e in report.published if str(e.event_id) not in refused]
    report.errors.sort(key=lambda e: e.line)
    return report


def publish_in_chunks(
    container: Container,
    numbered: list[tuple[int, Envelope]],
    principal: Principal,
    wait_seconds: float | None = None,
    *,
    again: bool = False,
    chunk_size: int = CHUNK_EVENTS,
) -> PublishReport:
    """`publish`, a chunk of events at a time (the checks read what each chunk names, and
    the bus takes one chunk's messages at once), with the reports joined."""
    joined = PublishReport()
    registered: set[str] = set()
    for start in range(0, len(numbered), chunk_size):
        report = publish(
            container,
            numbered[start : start + chunk_size],
            principal,
            wait_seconds,
            again=again,
            registered=registered,
        )
        joined.published.extend(report.published)
        joined.errors.extend(report.errors)
        joined.pending.extend(report.pending)
    return joined


def _not_acceptable(event: Envelope, today: dt.date, stored: dict[str, Envelope]) -> str | None:
    if event.occurred_on > today:
        return f"occurred_on {event.occurred_on} is in the future (today is {today})"
    earlier = stored.get(str(event.event_id))
    if earlier is not None and not event.same_event_as(earlier):
        return f"event_id {event.event_id} was already used for a different event"
    return None


def _repeats(event: Envelope, actor: str, recent: list[Envelope], since: dt.datetime) -> str | None:
    """A change identical to one the same user recorded since `since` is most likely the
    same command run twice: recording it again would double a budget change."""
    for earlier in recent:
        if (
            earlier.event_id != event.event_id
            and (earlier.scheme_id, earlier.type) == (event.scheme_id, event.type)
            and earlier.actor == actor
            and earlier.payload == event.payload
            and earlier.recorded_at is not None
            and earlier.recorded_at >= since
        ):
            return (
                f"{actor} recorded the same {event.type.value} for {event.scheme_id} at "
                f"{earlier.recorded_at:%H:%M} ({earlier.event_id}): if it happened again, "
                "confirm with --again"
            )
    return None


def to_message(event: Envelope) -> Message:
    return Message(
        topics.SCHEME_EVENTS, event.scheme_id.encode("utf-8"), event.model_dump_json().encode()
    )


def _wait_for_tracker(
    container: Container, event_ids: list[str], seconds: float
) -> dict[str, str | None]:
    deadline = time.monotonic() + seconds
    while True:
        with container.sessions() as session:
            outcomes = event_outcomes(session, event_ids)
        if len(outcomes) == len(event_ids) or time.monotonic() >= deadline:
            return outcomes
        time.sleep(0.2)


class NotPermitted(Exception):
    """The principal may not record some of the events; nothing was published."""


@dataclass
class BatchOutcome:
    """What became of a batch from the API: items are numbered from 0 as sent."""

    invalid: list[LineError] = field(default_factory=list)
    report: PublishReport | None = None


def publish_batch(
    container: Container,
    principal: Principal,
    documents: list[object],
    wait_seconds: float | None = None,
    *,
    again: bool = False,
) -> BatchOutcome:
    """Publish envelopes sent as JSON values: checked whole first, so a batch with an
    invalid envelope, or one the principal may not record, publishes nothing."""
    outcome = BatchOutcome()
    numbered: list[tuple[int, Envelope]] = []
    for index, document in enumerate(documents):
        try:
            text = simplejson.dumps(document, use_decimal=True)
            numbered.append((index, decode_envelope(text)))
        except (DecodeError, RecursionError, ValueError) as error:
            reason = error.reason if isinstance(error, DecodeError) else "not a JSON envelope"
            outcome.invalid.append(LineError(index, reason))
    if outcome.invalid:
        return outcome
    denied = [
        f"item {index}: {why}"
        for index, event in numbered
        if (why := recording_refusal(principal, event))
    ]
    if denied:
        raise NotPermitted("; ".join(denied))
    outcome.report = publish(container, numbered, principal, wait_seconds, again=again)
    return outcome


def refused_events(
    container: Container, principal: Principal, limit: int = 50
) -> list[dict[str, object]]:
    """Events the tracker refused, newest first, with the reason and the original text."""
    require(principal, Operation.view_programme)
    with container.sessions() as session:
        return [row.model_dump() for row in dead_letters(session, limit)]
