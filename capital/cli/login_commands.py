"""`capital login URL` and `capital logout`: use a deployed service as a signed-in user."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from capital.cli.context import fail
from capital.cli.remote import RemoteError, forget_login, request_token, store_login


def register(app: typer.Typer) -> None:
    app.command("login")(login_command)
    app.command("logout")(logout_command)


def login_command(
    url: Annotated[str, typer.Argument(help="The service, e.g. https://capital.council.gov.uk")],
    email: Annotated[str | None, typer.Option("--email", help="Your sign-in email.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    expires_in_days: Annotated[int, typer.Option("--expires-in-days", min=1, max=365)] = 30,
) -> None:
    """Sign in to a deployed service. From then on `capital publish` and `capital log`
    send events through its API as you, with your roles (until `capital logout`)."""
    if not url.startswith(("https://", "http://")):
        raise fail(f"{url!r} is not a URL (https://...)", 2)
    email = email or typer.prompt("Email")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
    try:
        login = request_token(url, email, password, expires_in_days)
    except RemoteError as error:
        raise fail(str(error), 3) from None
    path = store_login(login)
    typer.echo(f"signed in to {login.url} as {login.user}; token kept in {path} (mode 0600)")


def logout_command() -> None:
    """Forget the stored sign-in: commands work on the database again (operators)."""
    typer.echo("signed out" if forget_login() else "not signed in")
