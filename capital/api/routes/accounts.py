"""Signing in and out, and (for administrators) users and their tokens."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from capital.api.security import (
    SESSION_COOKIE,
    ContainerDep,
    CurrentPrincipal,
    bearer_token,
    csrf_token,
    set_session_cookie,
)
from capital.application import accounts
from programme.permissions import Role

router = APIRouter(tags=["accounts"])


class Credentials(BaseModel):
    email: str = Field(max_length=128)
    password: str = Field(max_length=1024)


class TokenRequest(Credentials):
    expires_in_days: int = Field(90, ge=1, le=3650)


class NewUser(BaseModel):
    email: str = Field(max_length=128)
    roles: list[Role] = Field(max_length=4)
    password: str | None = Field(None, max_length=1024)


class NewToken(BaseModel):
    expires_in_days: int = Field(90, ge=1, le=3650)


@router.post(
    "/api/auth/sign-in",
    responses={401: {"description": "Wrong email or password."}, 429: {"description": "Wait."}},
)
async def sign_in(
    body: Credentials, request: Request, response: Response, container: ContainerDep
) -> dict[str, Any]:
    """Open a portal session: an http-only, same-site cookie, and the CSRF token that
    writes made with the cookie must send as `X-CSRF-Token`."""
    issued = await _sign_in(request, container, body, "session", None)
    set_session_cookie(response, issued.token, container.settings.web)
    return {
        "user": issued.user,
        "expires_at": issued.expires_at,
        "csrf_token": csrf_token(request, issued.token),
    }


@router.post(
    "/api/auth/token",
    responses={401: {"description": "Wrong email or password."}, 429: {"description": "Wait."}},
)
async def create_token(
    body: TokenRequest, request: Request, container: ContainerDep
) -> dict[str, Any]:
    """An API token for the user signing in (what `capital login` stores). Shown once."""
    issued = await _sign_in(
        request, container, body, "api", dt.timedelta(days=body.expires_in_days)
    )
    return {"token": issued.token, "token_id": issued.token_id, "expires_at": issued.expires_at}


@router.post("/api/auth/sign-out", status_code=204)
def sign_out(request: Request, response: Response, principal: CurrentPrincipal) -> None:
    """End this session (or revoke the bearer token used): it cannot be used again."""
    container = request.app.state.container
    token = bearer_token(request) or request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.sign_out(container.sessions, token)
    response.delete_cookie(SESSION_COOKIE)


@router.get("/api/me")
def me(principal: CurrentPrincipal) -> dict[str, Any]:
    """Who you are signed in as, and your roles."""
    return {"user": principal.name, "roles": sorted(principal.roles or []), "via": principal.via}


@router.get("/api/users")
def list_users(container: ContainerDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Every user with their roles (administrators)."""
    users = [asdict(u) for u in accounts.list_users(container.sessions, principal)]
    return {"count": len(users), "data": users}


@router.post("/api/users", status_code=201)
def add_user(body: NewUser, container: ContainerDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Add a user or replace their roles (administrators)."""
    try:
        user = accounts.add_user(
            container.sessions, principal, body.email, body.roles, body.password
        )
    except ValueError as error:
        raise HTTPException(422, str(error)) from None
    return asdict(user)


@router.delete("/api/users/{email}", status_code=204, responses={404: {"description": "None."}})
def remove_user(
    email: Annotated[str, Path(max_length=128)],
    container: ContainerDep,
    principal: CurrentPrincipal,
) -> None:
    """Remove a user; their tokens and sessions stop working (administrators)."""
    try:
        removed = accounts.remove_user(container.sessions, principal, email)
    except ValueError as error:
        raise HTTPException(422, str(error)) from None
    if not removed:
        raise HTTPException(404, f"no user {email!r}")


@router.post("/api/users/{email}/tokens", status_code=201)
def issue_token(
    email: Annotated[str, Path(max_length=128)],
    body: NewToken,
    container: ContainerDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """A new API token for a user (administrators, or the user for themselves)."""
    try:
        issued = accounts.issue_token(
            container.sessions, principal, email, dt.timedelta(days=body.expires_in_days)
        )
    except (accounts.UnknownUser, ValueError) as error:
        raise HTTPException(404 if isinstance(error, LookupError) else 422, str(error)) from None
    return {"token": issued.token, "token_id": issued.token_id, "expires_at": issued.expires_at}


@router.get("/api/tokens")
def list_tokens(container: ContainerDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Every token and session issued, never their secrets (administrators)."""
    tokens = [asdict(t) for t in accounts.list_tokens(container.sessions, principal)]
    return {"count": len(tokens), "data": tokens}


@router.delete("/api/tokens/{token_id}", status_code=204, responses={404: {"description": "-"}})
def revoke_token(
    token_id: Annotated[str, Path(max_length=32)],
    container: ContainerDep,
    principal: CurrentPrincipal,
) -> None:
    """Revoke a token (administrators, or the user whose token it is)."""
    if accounts.revoke_tokens(container.sessions, principal, token_id=token_id) == 0:
        raise HTTPException(404, f"no valid token {token_id!r}")


async def _sign_in(
    request: Request,
    container: Any,
    body: Credentials,
    kind: str,
    length: dt.timedelta | None,
) -> accounts.IssuedToken:
    web = container.settings.web
    address = request.client.host if request.client else "unknown"
    try:
        return await run_in_threadpool(
            accounts.sign_in,
            container.sessions,
            request.app.state.throttle,
            body.email,
            body.password,
            address,
            length or dt.timedelta(hours=web.session_hours),
            kind,
        )
    except accounts.SignInThrottled as error:
        raise HTTPException(
            429, str(error), headers={"Retry-After": str(error.retry_after_s)}
        ) from None
    except accounts.SignInRefused:
        raise HTTPException(401, "wrong email or password") from None
