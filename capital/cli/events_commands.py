"""Producing events and the contract: `publish`, `log`, `dead-letters`, `events schema`,
`events asyncapi`, `events types`."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from capital.application.publishing import PublishReport, parse_lines, publish, refused_events
from capital.cli.context import (
    fail,
    open_container,
    operator_principal,
    parse_date,
    settings_from,
    signed_in,
)
from capital.cli.output import Format, emit
from capital.cli.remote import RemoteError, publish_remote
from events import EventType, canonical_type, new_event
from events.asyncapi import asyncapi_document
from events.schema import MESSAGES, message_schema

MessageName = StrEnum("MessageName", {name.replace("-", "_"): name for name in MESSAGES})

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
    app.command("log")(log_command)
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
        raw = sys.stdin.buffer.read()
    else:
        path = Path(file)
        if not path.is_file():
            raise fail(f"no such file: {file}", 2)
        raw = path.read_bytes()
    numbered, errors = parse_lines(raw.removeprefix(b"\xef\xbb\xbf").split(b"\n"))
    login = signed_in(ctx)
    if login is not None:
        try:
            report = publish_remote(login, numbered, again=again)
        except RemoteError as error:
            raise fail(str(error), 3) from None
    else:
        with open_container(ctx) as container:
            report = publish(
                container,
                numbered,
                operator_principal(container),
                timeout if wait else None,
                again=again,
            )
    report.errors = sorted([*errors, *report.errors], key=lambda e: e.line)
    _print_report(report, file)


def _print_report(report: PublishReport, source: str) -> None:
    name = "stdin" if source == "-" else source
    for error in report.errors:
        typer.secho(f"{name}:{error.line}: {error.reason}", err=True, fg="red")
    refused = {e.line for e in report.errors}
    typer.echo(f"published {len(report.published)} event(s); refused {len(refused)} line(s)")
    if report.pending:
        typer.secho(
            f"{len(report.pending)} event(s) not yet processed by the tracker",
            err=True,
            fg="yellow",
        )
    if not report.ok:
        raise typer.Exit(1)


def log_command(
    ctx: typer.Context,
    event_type: Annotated[str, typer.Argument(metavar="TYPE", help="e.g. completion.revised")],
    scheme: Annotated[str, typer.Option("--scheme", help="Scheme id, e.g. CYPE-018.")],
    on: Annotated[
        str | None, typer.Option("--on", help="When it happened (default today).")
    ] = None,
    reason: Annotated[str | None, typer.Option()] = None,
    anticipated_completion: Annotated[str | None, typer.Option()] = None,
    baseline_completion: Annotated[str | None, typer.Option()] = None,
    baseline_start: Annotated[str | None, typer.Option()] = None,
    phase: Annotated[str | None, typer.Option()] = None,
    snag_id: Annotated[str | None, typer.Option()] = None,
    description: Annotated[str | None, typer.Option()] = None,
    note: Annotated[str | None, typer.Option()] = None,
    percent_complete: Annotated[int | None, typer.Option()] = None,
    funding_source: Annotated[str | None, typer.Option()] = None,
    amount: Annotated[str | None, typer.Option()] = None,
    forecast_outturn: Annotated[str | None, typer.Option()] = None,
    which: Annotated[str | None, typer.Option(help="programme, budget or overall")] = None,
    value: Annotated[str | None, typer.Option(help="green, amber, red or none")] = None,
    title: Annotated[str | None, typer.Option()] = None,
    budget: Annotated[str | None, typer.Option()] = None,
    funding: Annotated[
        list[str] | None,
        typer.Option(help="SOURCE:AMOUNT[:APPROVED_ON], repeat for each source."),
    ] = None,
    contractor: Annotated[str | None, typer.Option()] = None,
    contract_length: Annotated[str | None, typer.Option()] = None,
    programme: Annotated[str | None, typer.Option(help="The programme it belongs to.")] = None,
    project_manager: Annotated[str | None, typer.Option()] = None,
    public_sensitivity: Annotated[str | None, typer.Option()] = None,
    wait: Annotated[bool, typer.Option("--wait")] = False,
    again: AgainOption = False,
) -> None:
    """Log one event from flags, e.g.
    `capital log completion.revised --scheme CYPE-018 --anticipated-completion 2023-01-06
    --reason "Asbestos found"`."""
    try:
        kind = canonical_type(event_type)
    except ValueError as error:
        raise fail(str(error), 2) from None
    payload = {
        "reason": reason,
        "anticipated_completion": anticipated_completion,
        "baseline_completion": baseline_completion,
        "baseline_start": baseline_start,
        "phase": phase,
        "snag_id": snag_id,
        "description": description,
        "note": note,
        "percent_complete": percent_complete,
        "funding_source": funding_source,
        "amount": amount,
        "forecast_outturn": forecast_outturn,
        "which": which,
        "title": title,
        "budget": budget,
        "contractor": contractor,
        "contract_length": contract_length,
        "programme": programme,
        "project_manager": project_manager,
        "public_sensitivity": public_sensitivity,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    if value is not None:
        payload["value"] = None if value.lower() == "none" else value.lower()
    if funding:
        payload["funding"] = [_funding_line(text) for text in funding]
    with open_container(ctx) as container:
        occurred_on = parse_date(on) or container.settings.current_date()
        try:
            event = new_event(kind, scheme, occurred_on, payload)
        except ValidationError as error:
            raise fail(f"{kind.value}: {_as_flags(error)}", 2) from None
        report = publish(
            container,
            [(1, event)],
            operator_principal(container),
            120.0 if wait else None,
            again=again,
        )
    for error in report.errors:
        typer.secho(f"refused: {error.reason}", err=True, fg="red")
    if not report.ok:
        raise typer.Exit(1)
    typer.echo(f"logged {kind.value} for {scheme} ({event.event_id})")


def _funding_line(text: str) -> dict[str, str]:
    """SOURCE:AMOUNT or SOURCE:AMOUNT:APPROVED_ON (YYYY-MM-DD)."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not parts[0].strip():
        raise typer.BadParameter(f"--funding {text!r}: use SOURCE:AMOUNT[:APPROVED_ON]")
    line = {"source": parts[0], "amount": parts[1]}
    if len(parts) == 3:
        line["approved_on"] = parts[2]
    return line


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
    ] = MessageName.envelope,
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
