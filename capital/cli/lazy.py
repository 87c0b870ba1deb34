"""A typer command group whose commands are imported when one of them is run.

Typer builds every command of an app up front, and building a command imports everything
its module imports. Here the root group knows each command only by name, the module of
its area and a one-line summary; the area's module is imported (and its `register(app)`
called) the first time one of its commands is looked up. `capital --help` lists the
summaries without importing any area.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer.core import TyperGroup

AREA_PACKAGE = "capital.cli"


@dataclass(frozen=True)
class Area:
    module: str
    """The module under `capital.cli` whose `register(app)` adds the command."""
    summary: str
    """What `capital --help` says of the command."""


class LazyCommands(TyperGroup):
    areas: ClassVar[Mapping[str, Area]] = {}
    """Command name -> its area; subclasses name theirs."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._listing = False

    def list_commands(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        return [*self.areas, *(name for name in self.commands if name not in self.areas)]

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:  # type: ignore[override]
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        area = self.areas.get(cmd_name)
        if area is None:
            return None
        if self._listing:
            return _Summary(cmd_name, area.summary)
        self.commands.update(load_area(area.module))
        return self.commands.get(cmd_name)

    def format_help(self, ctx: typer.Context, formatter: Any) -> None:  # type: ignore[override]
        # The listing needs only each command's summary: import no area for it.
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def load_area(module_name: str) -> dict[str, Any]:
    """The click commands one area's module registers, by name."""
    module = importlib.import_module(f"{AREA_PACKAGE}.{module_name}")
    area_app = typer.Typer()
    module.register(area_app)
    return dict(typer.main.get_group(area_app).commands)


class _Summary(typer.core.TyperCommand):
    """A command as the help listing shows it: its name and summary, nothing imported."""

    def __init__(self, name: str, summary: str) -> None:
        super().__init__(name=name, short_help=summary, help=summary)
