"""`capital users`: accounts, roles and API tokens (roles in `programme.permissions`)."""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import asdict
from typing import Annotated

import typer

from capital.application import accounts
from capital.cli.context import exit_on_refusal, fail, open_container, operator_principal
from capital.cli.output import Format, emit
from programme.permissions import Role

users_app = typer.Typer(
    help="Users, their roles and their API tokens. Run against the database, this is an "
    "operator's tool: the operator's OS account is recorded beside every change. While no "
    "user is registered the operator may do anything; the first user must be an admin.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The user's email address.")],
    role: Annotated[list[Role], typer.Option("--role", help="Repeat for several roles.")],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read a password (at least 12 characters) from the first line of stdin, "
            "for signing in to the portal or `capital login`.",
        ),
    ] = False,
) -> None:
    """Register a user, or replace their roles (and password)."""
    password = _read_password() if password_stdin else None
    with open_container(ctx) as container, exit_on_refusal(ValueError):
        user = accounts.add_user(
            container.sessions, operator_principal(container), name, role, password
        )
    typer.echo(f"{user.name}: {','.join(user.roles)} (by {user.added_by})")


@users_app.command("remove")
def users_remove(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Remove a user: their tokens and sessions stop working at once."""
    with open_container(ctx) as container, exit_on_refusal(ValueError):
        removed = accounts.remove_user(container.sessions, operator_principal(container), name)
    if not removed:
        raise fail(f"no user {name!r}", 2)
    typer.echo(f"removed {name}")


@users_app.command("list")
def users_list(
    ctx: typer.Context, format: Annotated[Format, typer.Option("--format")] = Format.table
) -> None:
    """Every user with their roles and how they sign in."""
    with open_container(ctx) as container, exit_on_refusal():
        users = accounts.list_users(container.sessions, operator_principal(container))
    rows = [{**asdict(user), "roles": ",".join(user.roles)} for user in users]
    columns = ["name", "roles", "password", "single_sign_on", "added_by", "added_at"]
    emit(rows, format, columns, "Users")


@users_app.command("token")
def users_token(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The user the token acts as.")],
    expires_in_days: Annotated[
        int, typer.Option("--expires-in-days", min=1, max=3650, help="Days until it expires.")
    ] = 90,
) -> None:
    """Issue an API token for a user. Only the token is printed, on stdout, once: it is
    stored hashed and cannot be shown again. Revoke it with `capital users revoke-token`."""
    with open_container(ctx) as container, exit_on_refusal(accounts.UnknownUser, ValueError):
        issued = accounts.issue_token(
            container.sessions,
            operator_principal(container),
            name,
            dt.timedelta(days=expires_in_days),
        )
    typer.secho(
        f"token {issued.token_id} for {issued.user}, expires {issued.expires_at:%Y-%m-%d}",
        err=True,
    )
    typer.echo(issued.token)


@users_app.command("revoke-token")
def users_revoke_token(
    ctx: typer.Context,
    token_id: Annotated[
        str | None, typer.Argument(help="The token's id (shown when issued and by `tokens`).")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Revoke every token and session of this user.")
    ] = None,
) -> None:
    """Revoke a token, or all of a user's tokens and sessions."""
    if (token_id is None) == (user is None):
        raise fail("name a token id or --user, not both", 2)
    with open_container(ctx) as container, exit_on_refusal():
        count = accounts.revoke_tokens(
            container.sessions, operator_principal(container), token_id=token_id, user=user
        )
    if count == 0:
        raise fail("no such token that is still valid", 2)
    typer.echo(f"revoked {count} token(s)")


@users_app.command("tokens")
def users_tokens(
    ctx: typer.Context, format: Annotated[Format, typer.Option("--format")] = Format.table
) -> None:
    """Every token and session issued (never the secrets)."""
    with open_container(ctx) as container, exit_on_refusal():
        tokens = accounts.list_tokens(container.sessions, operator_principal(container))
    columns = ["token_id", "user", "kind", "created_by", "created_at", "expires_at", "revoked_at"]
    emit([asdict(t) for t in tokens], format, columns, "Tokens")


def _read_password() -> str:
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("Password: ")
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise fail("--password-stdin: no password on stdin", 2)
    return line
