"""The FastAPI application: built by `create_app(container)`, never at import time."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from capital.api.routes import accounts, alerts, events, programme, sso
from capital.application.accounts import SignInThrottle
from capital.application.principal import AccessDenied
from capital.application.schemes import UnknownScheme
from capital.bootstrap import Container

log = logging.getLogger(__name__)


def create_app(container: Container) -> FastAPI:
    # The portal reuses the API's session and CSRF helpers, so it is imported once the API
    # package is whole.
    from capital.web.portal import error_page, mount_portal

    web = container.settings.web
    app = FastAPI(
        title=f"{web.service_name} API",
        version="1",
        description=(
            "Scheme events in; the programme board, alerts and finance and committee reports "
            "out. Every endpoint but `/api/health` needs `Authorization: Bearer <token>` "
            "(from `capital users token` or `capital login`) or a portal session. "
            "401: no valid sign-in; 403: the role needed is named; 422: invalid input, "
            "field named."
        ),
    )
    app.state.container = container
    app.state.throttle = SignInThrottle(
        web.sign_in_attempts, dt.timedelta(minutes=web.sign_in_window_minutes)
    )
    app.state.sso_client = sso.sso_client(web)
    key = web.secret_key.get_secret_value() if web.secret_key else secrets.token_urlsafe(32)
    app.state.secret_key = key.encode("utf-8")
    # Holds only the single sign-on state and PKCE verifier between the redirect and the
    # callback; the user's session itself is a server-side, revocable token.
    app.add_middleware(
        SessionMiddleware,
        secret_key=key,
        session_cookie="capital_sso",
        max_age=600,
        same_site="lax",
        https_only=web.secure_cookies,
    )
    app.add_middleware(BodyLimit, limit=web.max_body_bytes)

    @app.exception_handler(AccessDenied)
    async def forbidden(request: Request, error: AccessDenied) -> Response:
        if _is_page(request):
            return error_page(request, 403, "You do not have access to this page", str(error))
        return JSONResponse({"detail": str(error)}, status_code=403)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404 and _is_page(request):
            return error_page(request, 404, "Page not found", "There is no page at this address.")
        return await http_exception_handler(request, error)

    @app.exception_handler(UnknownScheme)
    async def not_found(request: Request, error: UnknownScheme) -> Response:
        if _is_page(request):
            return error_page(request, 404, "Page not found", str(error))
        return JSONResponse({"detail": str(error)}, status_code=404)

    @app.get("/api/health", tags=["service"])
    def health() -> dict[str, str]:
        """Whether the service is up; no sign-in needed."""
        return {"status": "ok"}

    for module in (events, programme, alerts, accounts, sso):
        app.include_router(module.router)
    mount_portal(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            events.add_envelope_schema(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _is_page(request: Request) -> bool:
    """A portal page rather than the JSON API."""
    return not request.url.path.startswith("/api/")


class BodyLimit:
    """413 for a request body over the limit, whether it declares its length or streams."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(self.limit, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(self.limit, send)


class _TooLarge(Exception):
    pass


async def _too_large(limit: int, send: Send) -> None:
    response = JSONResponse(
        {"detail": f"the request body is larger than {limit} bytes"}, status_code=413
    )
    await response({"type": "http"}, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}
