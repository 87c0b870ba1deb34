"""Single sign-on against a real OpenID Connect provider on 127.0.0.1: the authorisation
code flow with PKCE, a user given a role by a groups claim, someone unknown let in with no
role, and a token from another issuer refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from oidc_provider_mock import User, run_server_in_thread

from capital.api import create_app
from capital.bootstrap import bootstrap
from capital.settings import Settings, SingleSignOn, WebSettings
from programme.permissions import Role

HEAD_OF_CAPITAL = User(
    sub="ana-lee-7f3a",
    claims={"email": "ana.lee@council.gov.uk", "groups": ["capital-programme-heads"]},
)
NEWCOMER = User(sub="sam-ng-21c9", claims={"email": "sam.ng@council.gov.uk", "groups": []})


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with run_server_in_thread(port=0, user_claims=[HEAD_OF_CAPITAL, NEWCOMER]) as server:
        yield f"http://localhost:{server.server_port}"


def portal(database_url: str, issuer: str, metadata_url: str | None = None) -> TestClient:
    sso = SingleSignOn(
        issuer=issuer,
        metadata_url=metadata_url,
        client_id="capital-tracker",
        client_secret="not-a-real-secret",
        group_roles={"capital-programme-heads": Role.head_of_capital},
    )
    settings = Settings(
        database_url=database_url,
        today=dt.date(2024, 7, 29),
        web=WebSettings(base_url="http://testserver", sso=sso),
    )
    return TestClient(create_app(bootstrap(settings)), follow_redirects=False)


def sign_in_at_provider(client: TestClient, user: User) -> httpx.Response:
    """Follow the service to the provider, sign in there as `user`, and come back."""
    start = client.get("/auth/sso/login")
    assert start.status_code == 302
    authorize = start.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"]  # PKCE
    assert query["code_challenge"][0] and query["response_type"] == ["code"]
    consent = httpx.post(authorize, data={"sub": user.sub}, follow_redirects=False)
    assert consent.status_code == 302
    back = urlsplit(consent.headers["location"])
    assert back.path == "/auth/sso/callback"
    return client.get(f"{back.path}?{back.query}")


def test_a_head_of_capital_signs_in_and_gets_the_role_their_group_maps_to(sqlite_url, provider):
    client = portal(sqlite_url, provider)

    signed_in = sign_in_at_provider(client, HEAD_OF_CAPITAL)

    assert signed_in.status_code == 302
    cookie = signed_in.headers["set-cookie"]
    assert "capital_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    me = client.get("/api/me").json()
    assert me == {"user": "ana.lee@council.gov.uk", "roles": ["head_of_capital"], "via": "session"}
    assert client.get("/api/schemes").status_code == 200


def test_someone_the_claims_do_not_map_is_let_in_with_no_role(sqlite_url, provider):
    client = portal(sqlite_url, provider)

    assert sign_in_at_provider(client, NEWCOMER).status_code == 302

    assert client.get("/api/me").json()["roles"] == []
    refused = client.get("/api/schemes")
    assert refused.status_code == 403
    assert "sam.ng@council.gov.uk (no role) may not view the programme" in refused.json()["detail"]


def test_a_token_from_another_issuer_is_refused(sqlite_url, provider):
    """The deployment trusts one issuer; a provider answering with tokens of its own is
    not it, however valid its signature."""
    client = portal(
        sqlite_url,
        issuer="https://login.microsoftonline.com/council-tenant/v2.0",
        metadata_url=f"{provider}/.well-known/openid-configuration",
    )

    refused = sign_in_at_provider(client, HEAD_OF_CAPITAL)

    assert refused.status_code == 401
    assert "another issuer" in refused.json()["detail"]
    assert "capital_session" not in refused.headers.get("set-cookie", "")
    assert client.get("/api/me").status_code == 401


def test_a_callback_without_a_sign_in_in_progress_is_refused(sqlite_url, provider):
    client = portal(sqlite_url, provider)

    forged = client.get("/auth/sso/callback?code=made-up&state=made-up")

    assert forged.status_code == 401
