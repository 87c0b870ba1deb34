"""The `capital` command line: the product's public interface for people and scripts.

Global options come before the command (`capital --database-url URL schemes`) or from
`CAPITAL_*` environment variables.

Each area's commands live in their own module and are imported only when one of them runs
(`COMMANDS` below is the index): `capital scheme ID` does not pay for Kafka, Alembic's
autogenerate, openpyxl or the HTTP client, and `capital --help` imports none of them.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from capital.cli.lazy import Area, LazyCommands

COMMANDS: dict[str, Area] = {
    "schemes": Area("scheme_commands", "The programme board: every scheme and its RAG."),
    "scheme": Area("scheme_commands", "One scheme: its state, RAG and full history."),
    "snags": Area("scheme_commands", "Snags across the programme, the longest overdue first."),
    "publish": Area("events_commands", "Publish event envelopes from a JSON Lines file."),
    "log": Area("events_commands", "Log one event from flags (`capital log --help`)."),
    "dead-letters": Area("events_commands", "Events the tracker refused, with the reason."),
    "status": Area("status_commands", "For operators: consumer lag, dead letters, outbox."),
    "worker": Area("kafka_commands", "Run a Faust worker on Kafka until SIGTERM."),
    "import-register": Area("import_commands", "Import a scheme register (CSV or Excel)."),
    "demo": Area("demo", "A real council's register imported and shown as of July 2024."),
    "sweep": Area("alert_commands", "Run the daily sweep once: overdue alerts, then digests."),
    "scheduler": Area("alert_commands", "Run the notifier's clock: daily sweep, retries."),
    "serve": Area("serve_commands", "Serve the JSON API and the portal for signed-in users."),
    "login": Area("login_commands", "Sign in to a deployed service: publish through its API."),
    "logout": Area("login_commands", "Forget the stored sign-in: work on the database again."),
    "events": Area("events_commands", "The event contract: schemas, AsyncAPI, types."),
    "topics": Area("kafka_commands", "Kafka topics."),
    "report": Area("report_commands", "Finance and committee reports."),
    "alerts": Area("alert_commands", "Alerts raised about schemes: list them, acknowledge."),
    "subscribers": Area("alert_commands", "Who receives alerts, and which."),
    "outbox": Area("alert_commands", "Deliveries of alerts and digests."),
    "users": Area("user_commands", "Users, their roles and their API tokens."),
    "db": Area("db_commands", "The database schema: upgrade it, or show its revision."),
    "projection": Area("projection_commands", "The read model: rebuild it from the event log."),
    "funding-sources": Area("reference_commands", "The deployment's funding sources."),
    "programmes": Area("reference_commands", "The deployment's programmes."),
}


class CapitalCommands(LazyCommands):
    areas = COMMANDS


app = typer.Typer(
    name="capital",
    help="Capital Tracker: scheme events in, RAG state, slippage alerts and reports out.\n\n"
    "Run against the database (CAPITAL_DATABASE_URL), this is an operator's tool: "
    "your OS account is recorded beside every write. People sign in to `capital serve`.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=CapitalCommands,
)


@app.callback()
def configure(
    ctx: typer.Context,
    database_url: Annotated[
        str | None, typer.Option(help="SQLAlchemy URL [env CAPITAL_DATABASE_URL].")
    ] = None,
    bus: Annotated[str | None, typer.Option(help="memory or kafka [env CAPITAL_BUS].")] = None,
    kafka_bootstrap: Annotated[
        str | None, typer.Option(help="host:port [env CAPITAL_KAFKA_BOOTSTRAP].")
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            help="Act as this registered user (their roles apply); your OS account is "
            "recorded beside every write [env CAPITAL_ACTOR]."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    overrides = {
        "database_url": database_url,
        "bus": bus,
        "kafka_bootstrap": kafka_bootstrap,
        "actor": actor,
    }
    # kafka-python logs its own retries and slow polls; the command reports what failed.
    logging.getLogger("kafka").setLevel(logging.INFO if verbose else logging.CRITICAL)
    ctx.obj = {k: v for k, v in overrides.items() if v is not None}


def main() -> None:
    app()
