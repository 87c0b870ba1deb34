"""Who a request comes from: a bearer token (`capital users token`, `capital login`) or the
portal's session cookie. Cookie-authenticated writes must carry the session's CSRF token,
so another site cannot make a signed-in browser write."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response, status

from capital.application import accounts
from capital.application.principal import Principal
from capital.bootstrap import Container
from capital.settings import WebSettings

SESSION_COOKIE = "capital_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(container_of)]


def csrf_token(request: Request, session_token: str) -> str:
    """The CSRF token of a session: derived from it, so nothing more is stored."""
    key: bytes = request.app.state.secret_key
    return hmac.new(key, session_token.encode("utf-8"), hashlib.sha256).hexdigest()


def csrf_matches(request: Request, session_token: str, sent: str) -> bool:
    """Whether `sent` is the CSRF token of `session_token`, compared in constant time."""
    return hmac.compare_digest(sent, csrf_token(request, session_token))


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def optional_principal(request: Request, container: ContainerDep) -> Principal | None:
    token = bearer_token(request)
    if token is not None:
        return accounts.authenticate(container.sessions, token)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        return None
    principal = accounts.authenticate(container.sessions, cookie, kind="session")
    sent = request.headers.get(CSRF_HEADER, "")
    if (
        principal is not None
        and request.method not in SAFE_METHODS
        and not csrf_matches(request, cookie, sent)
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")
    return principal


def current_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "sign in: send Authorization: Bearer <token>, or a session cookie",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def set_session_cookie(response: Response, token: str, web: WebSettings) -> None:
    """The session cookie: not readable by scripts, not sent on other sites' requests,
    HTTPS-only when the service is served over HTTPS."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=web.session_hours * 3600,
        httponly=True,
        secure=web.secure_cookies,
        samesite="lax",
    )
