"""`capital users`: who may record what (roles in `programme.permissions`)."""

from __future__ import annotations

from typing import Annotated

import typer

from capital.application.access import AccessDenied, add_user, list_users, remove_user
from capital.cli.context import fail, open_container
from capital.cli.output import Format, emit
from programme.permissions import Role

users_app = typer.Typer(
    help="Users and their roles. While none is registered, anyone may record anything; "
    "the first user must be an admin, and from then on every write needs a role.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The user name events are attributed to.")],
    role: Annotated[list[Role], typer.Option("--role", help="Repeat for several roles.")],
) -> None:
    """Register a user, or replace their roles."""
    with open_container(ctx) as container:
        try:
            account = add_user(container.sessions, container.settings.current_actor(), name, role)
        except AccessDenied as error:
            raise fail(str(error), 3) from None
    typer.echo(f"{account.name}: {account.roles} (by {account.added_by})")


@users_app.command("remove")
def users_remove(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Remove a user: they can no longer record anything."""
    with open_container(ctx) as container:
        try:
            removed = remove_user(container.sessions, container.settings.current_actor(), name)
        except AccessDenied as error:
            raise fail(str(error), 3) from None
    if not removed:
        raise fail(f"no user {name!r}", 2)
    typer.echo(f"removed {name}")


@users_app.command("list")
def users_list(
    ctx: typer.Context, format: Annotated[Format, typer.Option("--format")] = Format.table
) -> None:
    with open_container(ctx) as container:
        rows = [account.model_dump() for account in list_users(container.sessions)]
    emit(rows, format, ["name", "roles", "added_by", "added_at"], "Users")
