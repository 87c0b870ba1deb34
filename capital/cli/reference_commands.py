"""`capital funding-sources` and `capital programmes`: the deployment's reference lists."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from capital.application.references import (
    ReferenceNameError,
    add_name,
    list_names,
    rename,
)
from capital.cli.context import exit_on_refusal, open_container, operator_principal
from capital.cli.output import Format, emit
from programme.reference import ReferenceKind


def register(app: typer.Typer) -> None:
    for kind in ReferenceKind:
        app.add_typer(_commands(kind), name=f"{kind.value.replace('_', '-')}s")


def _commands(kind: ReferenceKind) -> typer.Typer:
    label = kind.label
    commands = typer.Typer(
        help=f"The deployment's {label}s. Events must name one on the list, spelt as the "
        f"list spells it; registrations and the register import add new ones.",
        no_args_is_help=True,
    )

    @commands.command("list")
    def list_command(
        ctx: typer.Context,
        retired: Annotated[
            bool, typer.Option("--retired", help="Also the old names of renamed entries.")
        ] = False,
        format: Annotated[Format, typer.Option("--format")] = Format.table,
    ) -> None:
        """The list, with who added each entry and when."""
        with open_container(ctx) as container:
            entries = list_names(
                container, operator_principal(container), kind, include_retired=retired
            )
        rows = [dataclasses.asdict(entry) for entry in entries]
        emit(rows, format, ["name", "renamed_to", "added_by", "added_on"], f"{label}s".capitalize())

    @commands.command("add")
    def add_command(
        ctx: typer.Context, name: Annotated[str, typer.Argument(help="The name to add.")]
    ) -> None:
        """Add an entry; another spelling of one already there is refused."""
        with open_container(ctx) as container, exit_on_refusal(ReferenceNameError):
            added = add_name(container, operator_principal(container), kind, name)
        typer.echo(f"added {label} {added!r}")

    @commands.command("rename")
    def rename_command(
        ctx: typer.Context,
        old: Annotated[str, typer.Argument(help="The name on the list.")],
        new: Annotated[str, typer.Argument(help="What it is called from now on.")],
    ) -> None:
        """Rename (or merge into a listed name); schemes using it are amended."""
        with open_container(ctx) as container, exit_on_refusal(ReferenceNameError):
            result = rename(container, operator_principal(container), kind, old, new)
        for refusal in result.refused:
            typer.secho(f"refused: {refusal.reason}", err=True, fg="red")
        amended = ", ".join(result.amended) or "none"
        typer.echo(f"renamed {label} {result.old!r} to {result.new!r}; schemes amended: {amended}")
        if result.refused:
            raise typer.Exit(1)

    return commands
