"""The Kafka deployment: `topics create`, `worker tracker|notifier|all`."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from capital.bootstrap import WORKER_TOPICS
from capital.cli.context import fail, open_container, settings_from

topics_app = typer.Typer(help="Kafka topics.", no_args_is_help=True)


class WorkerRole(StrEnum):
    tracker = "tracker"
    notifier = "notifier"
    all = "all"


def register(app: typer.Typer) -> None:
    app.add_typer(topics_app, name="topics")
    app.command("worker")(worker_command)


@topics_app.command("create")
def topics_create(
    ctx: typer.Context,
    partitions: Annotated[int | None, typer.Option(help="Partitions per topic.")] = None,
) -> None:
    """Create the scheme events, state changes, alerts and dead-letter topics."""
    from capital.transports.kafka_admin import create_topics

    settings = settings_from(ctx, kafka_partitions=partitions)
    try:
        created = create_topics(
            settings.kafka_bootstrap, settings.kafka_partitions, settings.kafka_topic_prefix
        )
    except Exception as error:  # the admin client raises many kinds; the user needs one line
        raise fail(f"cannot create topics on {settings.kafka_bootstrap}: {error}") from None
    typer.echo(f"created: {', '.join(created)}" if created else "all topics already exist")


def worker_command(
    ctx: typer.Context,
    role: Annotated[WorkerRole, typer.Argument(help="Which consumer to run.")],
    loglevel: Annotated[str, typer.Option(help="Faust log level.")] = "info",
) -> None:
    """Run a Faust worker on Kafka until SIGTERM. Scale out by starting more with the
    same role: they share a consumer group."""
    from capital.transports.faust_worker import build_app, run_worker

    with open_container(ctx, bus="kafka") as container:
        roles = list(WORKER_TOPICS) if role is WorkerRole.all else [role.value]
        wanted = {topic for name in roles for topic in WORKER_TOPICS[name]}
        routes = {topic: h for topic, h in container.routes.items() if topic in wanted}
        app = build_app(container.settings, routes, role.value)
        # A notifier sends its deliveries from a loop of its own and runs the daily sweep;
        # with several replicas each fires, but the sweep claims its date in the database
        # and each delivery is claimed by one sender, so each happens once.
        scheduler = None
        if "notifier" in roles:
            container.start_delivery_loop()
            scheduler = container.notifier_scheduler()
            scheduler.start()
        try:
            run_worker(app, loglevel)
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
