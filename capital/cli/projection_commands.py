"""`capital projection rebuild`: the read model replayed from the events and swapped in."""

from __future__ import annotations

from typing import Annotated

import typer

from capital.application.principal import Operation
from capital.cli.context import authorised, exit_on_refusal, fail, open_container

projection_app = typer.Typer(help="The projection (the read model).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(projection_app, name="projection")


@projection_app.command("rebuild")
def rebuild_command(
    ctx: typer.Context,
    from_topic: Annotated[
        bool,
        typer.Option(
            "--from-topic/--from-log",
            help="Replay the scheme-events topic on Kafka, or the applied-event log in the "
            "database (the default).",
        ),
    ] = False,
) -> None:
    """Replay every event through today's fold and RAG rules into fresh tables beside the
    live projection, then swap them in at once. Readers keep the live tables until the
    swap; the tracker may keep running; no alert is raised again."""
    from capital.application.rebuilding import RebuildRefused, ReplayFrom, rebuild

    source = ReplayFrom.topic if from_topic else ReplayFrom.log
    with open_container(ctx) as container:
        principal = authorised(container, Operation.rebuild_projection)
        with typer.progressbar(length=1, label="replaying events", show_eta=True) as bar:

            def progress(done: int, total: int) -> None:
                bar.length = max(total, 1)
                bar.update(done - bar.pos)

            with exit_on_refusal(ValueError):
                try:
                    report = rebuild(container, principal, source, progress)
                except RebuildRefused as error:
                    raise fail(str(error), 1) from None
    typer.echo(
        f"rebuilt the projection from the {source.value}: {report.events:,} events, "
        f"{report.schemes:,} schemes in {report.seconds:.1f} s"
    )
    for event_id, reason in report.skipped:
        typer.echo(f"skipped {event_id}: {reason}")
