"""The `capital` command line: the product's public interface for people and scripts.

Global options come before the command (`capital --database-url URL schemes`) or from
`CAPITAL_*` environment variables.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from capital.cli import (
    alert_commands,
    db_commands,
    demo,
    events_commands,
    import_commands,
    kafka_commands,
    login_commands,
    projection_commands,
    reference_commands,
    report_commands,
    scheme_commands,
    serve_commands,
    user_commands,
)

app = typer.Typer(
    name="capital",
    help="Capital Tracker: scheme events in, RAG state, slippage alerts and reports out.\n\n"
    "Run against the database (CAPITAL_DATABASE_URL), this is an operator's tool: "
    "your OS account is recorded beside every write. People sign in to `capital serve`.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
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


scheme_commands.register(app)
events_commands.register(app)
kafka_commands.register(app)
report_commands.register(app)
import_commands.register(app)
demo.register(app)
alert_commands.register(app)
projection_commands.register(app)
user_commands.register(app)
serve_commands.register(app)
login_commands.register(app)
db_commands.register(app)
reference_commands.register(app)


def main() -> None:
    app()
