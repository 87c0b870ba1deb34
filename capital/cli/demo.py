"""`capital demo`: the main job on the embedded default, on real sample data."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from capital.cli.context import TodayOption, open_container, parse_date, settings_from
from capital.cli.output import Format, emit
from capital.cli.scheme_commands import BOARD_COLUMNS
from capital.publishing import parse_lines, publish
from projection.views import scheme_snapshots

SAMPLE = "sample-programme.jsonl"
PACK_DATE = "2024-07-29"


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)


def demo_command(
    ctx: typer.Context,
    today: TodayOption = PACK_DATE,
    fresh: Annotated[bool, typer.Option(help="Start from an empty database.")] = False,
) -> None:
    """Publish a sample programme (real schemes from a council's 2024 committee pack),
    track it on the in-memory bus and print the programme board."""
    settings = settings_from(ctx, bus="memory", today=parse_date(today))
    if fresh and settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    lines = sample_path().read_text(encoding="utf-8").splitlines()
    numbered, errors = parse_lines(lines)
    with open_container(ctx, bus="memory", today=parse_date(today)) as container:
        report = publish(container, numbered, "capital-demo")
        with container.sessions() as session:
            snapshots = scheme_snapshots(session, settings.current_date(), settings.rag)
    typer.echo(
        f"Published {len(report.published)} events from {sample_path().name} "
        f"into {settings.database_url} ({len(errors) + len(report.errors)} refused)."
    )
    emit(
        [s.model_dump() for s in snapshots],
        Format.table,
        BOARD_COLUMNS,
        f"Programme board, judged on {settings.current_date()}",
    )
    typer.echo("Next: capital scheme CYPE-018 · capital schemes --format json")


def sample_path() -> Path:
    return Path(str(resources.files("capital") / "data" / SAMPLE))
