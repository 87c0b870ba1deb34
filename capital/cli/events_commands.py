"""Producing events and the contract: `publish`, `log`, `dead-letters`, `events schema`,
`events asyncapi`, `events types`."""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from capital.application.publishing import (
    LineError,
    PublishChunk,
    PublishReport,
    StreamReport,
    publish,
    publish_lines,
    refused_events,
)
from capital.cli.context import (
    fail,
    open_container,
    operator_principal,
    settings_from,
    signed_in,
)
from capital.cli.output import Format, emit
from capital.cli.remote import RemoteError, publish_remote
from events import Envelope, EventType, canonical_type, new_event
from events.asyncapi import asyncapi_document
from events.envelope import PAYLOAD_MODELS
from events.forms import (
    FormField,
    FormProblems,
    fields_of,
    form_fields,
    read_payload,
    usage_of_parts,
)
from events.schema import MESSAGES, message_schema
from events.values import parse_day

# The messages with schemas, as a choice for `--message` (built from MESSAGES, so mypy
# cannot list the members).
MessageName = StrEnum(  # type: ignore[misc]
    "MessageName", {name.replace("-", "_"): name for name in MESSAGES}
)
ENVELOPE_MESSAGE = MessageName("envelope")

AgainOption = Annotated[
    bool,
    typer.Option(
        "--again",
        help="Record a change even though you recorded the same one minutes ago: it "
        "happened twice.",
    ),
]

events_app = typer.Typer(help="The event contract.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("publish")(publish_command)
    app.command("log", epilog=_fields_by_type())(_with_payload_flags(log_command))
    app.command("dead-letters")(dead_letters_command)
    app.add_typer(events_app, name="events")


def publish_command(
    ctx: typer.Context,
    file: Annotated[
        str, typer.Argument(help="A JSON Lines file of event envelopes, or - for stdin.")
    ],
    wait: Annotated[
        bool, typer.Option("--wait", help="With Kafka, wait until the tracker has processed them.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds --wait waits at most.")] = 120.0,
    again: AgainOption = False,
) -> None:
    """Publish event envelopes. Bad lines are reported by number; every valid line is
    still published; the exit status is 1 if anything was refused."""
    if file == "-":
        report = _publish_stream(ctx, sys.stdin.buffer, "stdin", timeout if wait else None, again)
    else:
        path = Path(file)
        if not path.is_file():
            raise fail(f"no such file: {file}", 2)
        with path.open("rb") as lines:
            report = _publish_stream(ctx, lines, file, timeout if wait else None, again)
    typer.echo(f"published {report.published} event(s); refused {report.refused_lines} line(s)")
    if report.pending:
        typer.secho(
            f"{report.pending} event(s) not yet processed by the tracker", err=True, fg="yellow"
        )
    if not report.ok:
        raise typer.Exit(1)


def _publish_stream(
    ctx: typer.Context,
    lines: Iterable[bytes],
    name: str,
    wait_seconds: float | None,
    again: bool,
) -> StreamReport:
    """Read, check and publish a chunk of lines at a time, reporting refused lines as
    they are found: memory stays flat however long the file."""

    def report_errors(errors: list[LineError]) -> None:
        for error in errors:
            typer.secho(f"{name}:{error.line}: {error.reason}", err=True, fg="red")

    stream = _without_byte_order_mark(line.removesuffix(b"\n") for line in lines)
    with _publisher(ctx, wait_seconds, again) as publish_chunk:
        return publish_lines(stream, publish_chunk, report_errors)


@contextmanager
def _publisher(
    ctx: typer.Context, wait_seconds: float | None, again: bool
) -> Iterator[PublishChunk]:
    """Publishing for this command: through the service's API as the signed-in user after
    `capital login`; else to the database, as the operator."""
    login = signed_in(ctx)
    if login is not None:

        def through_the_api(numbered: list[tuple[int, Envelope]]) -> PublishReport:
            try:
                return publish_remote(login, numbered, again=again)
            except RemoteError as error:
                raise fail(str(error), 3) from None

        yield through_the_api
        return
    with open_container(ctx) as container:
        principal = operator_principal(container)
        registered: set[str] = set()  # by earlier chunks of the same stream

        def to_the_database(numbered: list[tuple[int, Envelope]]) -> PublishReport:
            return publish(
                container, numbered, principal, wait_seconds, again=again, registered=registered
            )

        yield to_the_database


def _without_byte_order_mark(lines: Iterator[bytes]) -> Iterator[bytes]:
    first = next(lines, None)
    if first is not None:
        yield first.removeprefix(b"\xef\xbb\xbf")
        yield from lines


def log_command(
    ctx: typer.Context,
    event_type: Annotated[str, typer.Argument(metavar="TYPE", help="e.g. completion.revised")],
    scheme: Annotated[str, typer.Option("--scheme", help="Scheme id, e.g. CYPE-018.")],
    on: Annotated[
        str | None,
        typer.Option("--on", help="When it happened: 11/04/2025 or 2025-04-11 (default today)."),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait")] = False,
    again: AgainOption = False,
    **typed: str | list[str] | None,
) -> None:
    """Log one event from flags, e.g. `capital log completion.revised --scheme CYPE-018
    --anticipated-completion 06/01/2023 --reason "Asbestos found"`. Dates may be written
    day first (11/04/2025) or ISO, money as £4,250,000, £4.25m or £785k."""
    try:
        kind = canonical_type(event_type)
    except ValueError as error:
        raise fail(str(error), 2) from None
    given = {name: value for name, value in typed.items() if value not in (None, [])}
    try:
        payload = read_payload(kind, given)
    except FormProblems as error:
        message = f"{kind.value}: {_flag_problems(error.problems)}"
        if set(error.problems) - set(fields_of(kind)):
            takes = " ".join(_flag(name) for name in fields_of(kind)) or "no flags"
            message += f" ({kind.value} takes {takes})"
        raise fail(message, 2) from None
    try:
        occurred_on = parse_day(on) if on is not None else None
    except ValueError as error:
        raise fail(f"{kind.value}: --on: {error}", 2) from None
    try:
        event = new_event(kind, scheme, occurred_on or settings_from(ctx).current_date(), payload)
    except ValidationError as error:
        raise fail(f"{kind.value}: {_as_flags(error)}", 2) from None
    with _publisher(ctx, 120.0 if wait else None, again) as publish_chunk:
        report = publish_chunk([(1, event)])
    for refusal in report.errors:
        typer.secho(f"refused: {refusal.reason}", err=True, fg="red")
    if not report.ok:
        raise typer.Exit(1)
    shown = report.published[0].scheme_id if report.published else scheme
    typer.echo(f"logged {kind.value} for {shown} ({event.event_id})")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


_METAVAR = {"date": "DATE", "money": "MONEY", "whole number": "NUMBER", "text": "TEXT"}


def _payload_option(field: FormField) -> inspect.Parameter:
    """A flag for one payload field, saying which event types take it (* = required)."""
    takers = ", ".join(t.value + ("*" if t in field.required_by else "") for t in field.taken_by)
    # A date's description speaks of JSON's ISO dates; a flag also takes 11/04/2025.
    described = field.description if field.description and field.kind != "date" else ""
    help_text = (described + " " if described else "") + f"For {takers}."
    annotation: Any
    if field.repeated:
        metavar, annotation = usage_of_parts(field), list[str] | None
        help_text += " Repeat for each."
    else:
        metavar = "|".join(field.choices) or _METAVAR.get(field.kind, "TEXT")
        annotation = str | None
    option = typer.Option(_flag(field.name), help=help_text, metavar=metavar)
    return inspect.Parameter(
        field.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[annotation, option],
    )


def _fields_by_type() -> str:
    """The epilog of `log --help`: each event type with the flags it takes."""
    lines = ["Fields by event type (* required):"]
    for kind, model in PAYLOAD_MODELS.items():
        flags = [
            _flag(name) + ("*" if info.is_required() else "")
            for name, info in model.model_fields.items()
        ]
        lines.append(f"{kind.value}: {' '.join(flags) or '(none)'}")
    return "\n\n".join(lines)


def _with_payload_flags(command: Callable[..., None]) -> Callable[..., None]:
    """`command` with a flag for every payload field of every event type, so an event
    type added to the contract is logged with its own flags."""
    signature = inspect.signature(command, eval_str=True)
    fixed = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    fields = form_fields()
    clashes = {p.name for p in fixed} & {f.name for f in fields}
    if clashes:
        raise RuntimeError(f"payload fields {sorted(clashes)} clash with `log` options")

    @functools.wraps(command)
    def with_flags(*args: Any, **kwargs: Any) -> None:
        command(*args, **kwargs)

    with_flags.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*fixed, *(_payload_option(f) for f in fields)]
    )
    return with_flags


def _flag_problems(problems: dict[str, str]) -> str:
    return "; ".join(f"{_flag(name)}: {why}" for name, why in problems.items())


_FLAG_OF_FIELD = {"scheme_id": "--scheme", "occurred_on": "--on"}


def _as_flags(error: ValidationError) -> str:
    """Pydantic names fields; a user typed flags, so name those."""
    parts = []
    for problem in error.errors():
        path = [str(part) for part in problem["loc"]]
        if path[:1] == ["payload"] and len(path) > 1:
            flag = "--" + path[1].replace("_", "-")
        else:
            flag = _FLAG_OF_FIELD.get(path[0], ".".join(path)) if path else "event"
        parts.append(f"{flag}: {problem['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def dead_letters_command(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    format: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Events the tracker refused, with the reason and the original text."""
    with open_container(ctx) as container:
        rows = refused_events(container, operator_principal(container), limit)
    emit(
        rows,
        format,
        ["id", "at", "event_id", "scheme_id", "source", "reason", "raw"],
        "Dead letters",
    )


@events_app.command("schema")
def schema_command(
    message: Annotated[
        MessageName, typer.Option(help="Which message: the scheme event envelope by default.")
    ] = ENVELOPE_MESSAGE,
    output: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
) -> None:
    """JSON Schema (draft 2020-12) of a message on the topics: the envelope with every
    payload chosen by `type`, a state change, an alert or a dead letter. After an additive
    change to the models, refresh the released copy with
    `capital events schema --output events/schemas/envelope.v1.json` (and so on)."""
    _write_json(message_schema(message.value), output)


@events_app.command("asyncapi")
def asyncapi_command(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
) -> None:
    """AsyncAPI 3.0 document of the Kafka topics, named with this deployment's prefix
    (CAPITAL_KAFKA_TOPIC_PREFIX): keys, message schemas, who publishes and who consumes."""
    settings = settings_from(ctx)
    _write_json(asyncapi_document(settings.kafka_topic_prefix, settings.kafka_bootstrap), output)


def _write_json(document: dict[str, Any], output: Path | None) -> None:
    text = json.dumps(document, indent=2, ensure_ascii=False)
    if output:
        try:
            output.write_text(text + "\n", encoding="utf-8")
        except OSError as error:
            raise fail(f"cannot write {output}: {error.strerror}", 2) from None
        typer.echo(f"wrote {output}")
    else:
        typer.echo(text)


@events_app.command("types")
def types_command() -> None:
    """The event types the product accepts."""
    for kind in EventType:
        typer.echo(kind.value)
