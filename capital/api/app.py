"""The FastAPI application: built by `create_app(container)`, never at import time."""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from capital.api.routes import accounts, alerts, events, programme, sso
from capital.application.accounts import SignInThrottle
from capital.application.errors import InvalidInput
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
    logging.getLogger("uvicorn.access").addFilter(_ACCESS_LOG)  # once: filters are a set
    app.state.throttle = SignInThrottle(
        web.sign_in_attempts, dt.timedelta(minutes=web.sign_in_window_minutes)
    )
    app.state.sso_client = sso.sso_client(web)
    # Without a deployment key (PostgreSQL, CAPITAL_SECRET_KEY unset) a random one: a
    # sign-in in progress then does not survive a restart.
    key = container.secret_key or secrets.token_urlsafe(32)
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
    app.add_middleware(RefuseNulCharacters)

    @app.exception_handler(AccessDenied)
    async def forbidden(request: Request, error: AccessDenied) -> Response:
        if _is_page(request):
            return error_page(request, 403, "You do not have access to this page", str(error))
        return JSONResponse({"detail": str(error)}, status_code=403)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        # FastAPI would echo each bad input back; one may be a password or a webhook URL
        # with its token, so only where the problem is and what it is are returned.
        problems = [
            {"type": problem["type"], "loc": list(problem["loc"]), "msg": problem["msg"]}
            for problem in error.errors()
        ]
        return JSONResponse({"detail": problems}, status_code=422)

    @app.exception_handler(InvalidInput)
    async def invalid(request: Request, error: InvalidInput) -> JSONResponse:
        # Shaped like FastAPI's own 422s, so a client reads every invalid input one way.
        where = (
            "path"
            if error.field in request.path_params
            else "query"
            if error.field in request.query_params
            else "body"
        )
        problem = {"type": "value_error", "loc": [where, error.field], "msg": str(error)}
        return JSONResponse({"detail": [problem]}, status_code=422)

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


class _NoAddressInAccessLog(logging.Filter):
    """uvicorn logs every request's path; `DELETE /api/subscribers/{address}` may carry a
    webhook URL and its token. The address is left out (an id is kept)."""

    _ADDRESS = re.compile(r"(/api/subscribers/)(?!\d+(?:\?|$))[^?\s]*")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self._ADDRESS.sub(r"\1…", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


_ACCESS_LOG = _NoAddressInAccessLog()


def _is_page(request: Request) -> bool:
    """A portal page rather than the JSON API."""
    return not request.url.path.startswith("/api/")


class BodyLimit:
    """413 for a request body over the limit, whether it declares its length or streams.

    The body is read here, up to the limit, before the application sees any of it: an
    error raised while a route reads its body would reach the route's own body parsing,
    which answers 400 for anything that goes wrong there."""

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
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            received += len(chunks[-1])
            if received > self.limit:
                await _too_large(self.limit, send)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


class RefuseNulCharacters:
    """422 for a NUL character in the path or the query: no id, name or filter holds one,
    and PostgreSQL refuses to compare text with it. Shaped like FastAPI's own 422s."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = bytes(scope.get("query_string") or b"").decode("latin-1")
            where = ["path"] if "\x00" in scope["path"] else None
            for name, value in parse_qsl(query, keep_blank_values=True):
                if where is None and "\x00" in name + value:
                    where = ["query", name.replace("\x00", "")]
            if where is not None:
                problem = {"type": "value_error", "loc": where, "msg": "contains a NUL character"}
                await _refuse(422, [problem], send)
                return
        await self.app(scope, receive, send)


async def _too_large(limit: int, send: Send) -> None:
    await _refuse(413, f"the request body is larger than {limit} bytes", send)


async def _refuse(status_code: int, detail: object, send: Send) -> None:
    response = JSONResponse({"detail": detail}, status_code=status_code)
    await response({"type": "http"}, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}
