"""`capital status`: for operators, how the deployment is doing."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import typer

from capital.application.status import Status, deployment_status
from capital.cli.context import open_container, operator_principal
from capital.cli.output import ReportFormat, print_table, to_json


def register(app: typer.Typer) -> None:
    app.command("status")(status_command)


def status_command(
    ctx: typer.Context,
    latest: Annotated[int, typer.Option(help="How many of the latest dead letters to show.")] = 5,
    format: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.table,
) -> None:
    """For operators: consumer lag per group and partition (Kafka), dead letters (how many,
    the latest few) and the notifier's outbox backlog (due, waiting, failed, unknown)."""
    with open_container(ctx) as container:
        status = deployment_status(container, operator_principal(container), latest)
    if format is ReportFormat.json:
        typer.echo(to_json(status_json(status)))
        return
    print_status(status)


def status_json(status: Status) -> dict[str, Any]:
    return {
        "bus": status.bus,
        "consumer_lag": None
        if status.lag is None
        else {
            "total": status.total_lag,
            "partitions": [dataclasses.asdict(row) for row in status.lag],
        },
        "dead_letters": {"count": status.dead_letters, "latest": status.latest_dead_letters},
        "outbox": dataclasses.asdict(status.outbox),
    }


def print_status(status: Status) -> None:
    if status.lag is None:
        typer.echo("bus: embedded (in-process): no consumer lag")
    else:
        typer.echo(f"bus: kafka · consumer lag {status.total_lag} message(s) in all")
        print_table(
            [dataclasses.asdict(row) for row in status.lag],
            ["group", "topic", "partition", "committed", "end", "lag"],
            "Consumer lag",
        )
    backlog = status.outbox
    typer.echo(
        f"outbox: {backlog.due} due, {backlog.waiting} waiting to retry, "
        f"{backlog.sending} sending, {backlog.failed} failed, {backlog.unknown} unknown"
    )
    typer.echo(f"dead letters: {status.dead_letters}")
    if status.latest_dead_letters:
        print_table(
            status.latest_dead_letters,
            ["id", "at", "event_id", "scheme_id", "source", "reason"],
            "Latest dead letters",
        )
