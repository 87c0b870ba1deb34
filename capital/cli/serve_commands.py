"""`capital serve`: the HTTP API (and the portal) on uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from capital.cli.context import open_container


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)


def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
) -> None:
    """Serve the JSON API (described at /docs and /openapi.json) for signed-in users.

    Users sign in with a token (`capital users token`), a password or single sign-on;
    every write is attributed to them and checked against their roles."""
    import uvicorn

    from capital.api import create_app

    with open_container(ctx) as container:
        app = create_app(container)
        typer.echo(
            f"serving {container.settings.web.service_name} on http://{host}:{port} "
            f"(API docs at /docs)",
            err=True,
        )
        uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
