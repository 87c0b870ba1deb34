"""Single sign-on with the council's OpenID Connect provider (Microsoft Entra ID or any):
the authorisation-code flow with PKCE, through authlib. The ID token's signature, issuer,
audience, expiry and nonce are checked by authlib against the provider's published keys;
its claims map to roles by the settings (`CAPITAL_WEB__SSO__*`)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from capital.api.security import ContainerDep, set_session_cookie
from capital.application import accounts
from capital.settings import WebSettings

log = logging.getLogger(__name__)
router = APIRouter(tags=["accounts"])
PROVIDER = "council"


def sso_client(web: WebSettings) -> Any | None:
    """The registered OpenID Connect client, or None when single sign-on is not set up."""
    sso = web.sso
    if not sso.enabled:
        return None
    oauth = OAuth()
    oauth.register(
        name=PROVIDER,
        client_id=sso.client_id,
        client_secret=sso.client_secret.get_secret_value() if sso.client_secret else None,
        server_metadata_url=sso.discovery_url,
        client_kwargs={"scope": sso.scopes, "code_challenge_method": "S256"},
    )
    return oauth.create_client(PROVIDER)


def _client(request: Request) -> Any:
    client = getattr(request.app.state, "sso_client", None)
    if client is None:
        raise HTTPException(404, "single sign-on is not set up for this service")
    return client


@router.get("/auth/sso/login", responses={302: {"description": "To the provider."}})
async def sso_login(request: Request, container: ContainerDep) -> Any:
    """Start signing in with the council's identity provider."""
    client = _client(request)
    callback = f"{container.settings.web.base_url.rstrip('/')}/auth/sso/callback"
    return await client.authorize_redirect(request, callback)


@router.get("/auth/sso/callback", responses={302: {"description": "Signed in."}})
async def sso_callback(request: Request, container: ContainerDep) -> RedirectResponse:
    """Where the provider sends the user back: open a session from its ID token."""
    client = _client(request)
    web = container.settings.web
    try:
        token = await client.authorize_access_token(request)
    except (OAuthError, ValueError, KeyError) as error:
        log.warning("single sign-on refused: %s", error)
        raise HTTPException(401, "single sign-on failed; start again") from None
    claims = token.get("userinfo") or {}
    email = claims.get("email") or claims.get("preferred_username") or claims.get("upn")
    if claims.get("iss") != web.sso.issuer:
        # Only the issuer the deployment trusts may vouch for its users.
        log.warning("single sign-on refused: token from issuer %r", claims.get("iss"))
        raise HTTPException(401, "single sign-on failed: the token is from another issuer")
    if not email or not claims.get("sub"):
        raise HTTPException(401, "the identity provider gave no email address")
    groups = claims.get(web.sso.groups_claim) or []
    roles = web.sso.roles_for(email, [str(g) for g in groups] if isinstance(groups, list) else [])
    try:
        issued = await run_in_threadpool(
            accounts.single_sign_on,
            container.sessions,
            str(claims["iss"]),
            str(claims["sub"]),
            str(email),
            roles,
            dt.timedelta(hours=web.session_hours),
        )
    except (accounts.SignInRefused, ValueError):
        raise HTTPException(401, "this account is bound to another sign-in") from None
    response = RedirectResponse("/", status_code=302)
    set_session_cookie(response, issued.token, web)
    return response
