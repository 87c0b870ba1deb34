"""The portal refuses on the server what a page only hides: writes without the session's
CSRF token, pages a role may not see, and sessions that were signed out."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from capital.api import create_app
from capital.bootstrap import Container
from capital.settings import WebSettings
from tests.portal import PASSWORD, PEOPLE, PM_SCHEME, TODAY, seed


def csrf_of(page_html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page_html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def signed_in(container: Container, email: str) -> tuple[TestClient, str]:
    """A browser signed in as `email`, and the CSRF token its pages carry."""
    browser = TestClient(create_app(container))
    form = browser.get("/sign-in")
    answer = browser.post(
        "/sign-in",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    return browser, csrf_of(browser.get("/schemes").text)


SLIP = {
    "occurred_on-day": "29", "occurred_on-month": "7", "occurred_on-year": "2024",
    "anticipated_completion-day": "31", "anticipated_completion-month": "1",
    "anticipated_completion-year": "2025", "reason": "Steel deck corroded",
}  # fmt: skip
SLIP_FORM = f"/schemes/{PM_SCHEME}/record/completion-revised"


@pytest.mark.parametrize("token", [None, "forged", "0" * 64])
def test_a_site_update_without_the_sessions_csrf_token_is_refused(seeded: Container, token):
    browser, _ = signed_in(seeded, PEOPLE.project_manager)
    data = SLIP if token is None else {**SLIP, "csrf_token": token}

    refused = browser.post(SLIP_FORM, data=data, follow_redirects=False)

    assert refused.status_code == 403
    assert "The form has expired" in refused.text
    assert "Red" not in browser.get(f"/schemes/{PM_SCHEME}").text.split("RAG and why")[1][:400]


def test_another_sessions_csrf_token_is_refused(seeded: Container):
    browser, _ = signed_in(seeded, PEOPLE.project_manager)
    _, someone_elses = signed_in(seeded, PEOPLE.head_of_capital)

    refused = browser.post(SLIP_FORM, data={**SLIP, "csrf_token": someone_elses})

    assert refused.status_code == 403


def test_the_sign_in_form_needs_its_csrf_token(seeded: Container):
    browser = TestClient(create_app(seeded))
    browser.get("/sign-in")

    refused = browser.post(
        "/sign-in", data={"email": PEOPLE.admin, "password": PASSWORD}, follow_redirects=False
    )

    assert refused.status_code == 403
    assert "capital_session" not in refused.headers.get("set-cookie", "")


def test_a_site_update_with_the_token_is_recorded(seeded: Container):
    browser, csrf = signed_in(seeded, PEOPLE.project_manager)

    saved = browser.post(SLIP_FORM, data={**SLIP, "csrf_token": csrf}, follow_redirects=False)

    assert saved.status_code == 303
    assert "The scheme is now red" in browser.get(saved.headers["location"]).text


@pytest.mark.parametrize(
    ("email", "path"),
    [
        (PEOPLE.project_manager, "/admin/users"),
        (PEOPLE.project_manager, "/admin/subscribers"),
        (PEOPLE.finance, "/admin/tokens"),
        (PEOPLE.head_of_capital, "/admin/users"),
        (PEOPLE.project_manager, f"/schemes/{PM_SCHEME}/record/rag-override"),
        (PEOPLE.finance, f"/schemes/{PM_SCHEME}/record/completion-revised"),
    ],
)
def test_a_page_a_role_may_not_see_is_refused_on_the_server(seeded: Container, email, path):
    browser, _ = signed_in(seeded, email)

    refused = browser.get(path)

    assert refused.status_code == 403
    assert "You do not have access to this page" in refused.text


def test_a_role_may_not_post_what_its_pages_do_not_offer(seeded: Container):
    browser, csrf = signed_in(seeded, PEOPLE.project_manager)
    override = {
        **{k: v for k, v in SLIP.items() if k.startswith("occurred_on")},
        "which": "overall", "value": "green", "reason": "Looks fine to me",
        "csrf_token": csrf,
    }  # fmt: skip

    refused = browser.post(f"/schemes/{PM_SCHEME}/record/rag-override", data=override)
    alerts = browser.get("/alerts")
    acknowledged = browser.post("/alerts/acknowledge", data={"csrf_token": csrf, "alert_id": "x"})

    assert refused.status_code == 403
    assert "Acknowledge selected alerts" not in alerts.text
    assert acknowledged.status_code == 403


def test_a_signed_out_session_cannot_be_replayed(seeded: Container):
    browser, csrf = signed_in(seeded, PEOPLE.head_of_capital)
    cookie = browser.cookies["capital_session"]

    signed_out = browser.post("/sign-out", data={"csrf_token": csrf}, follow_redirects=False)
    replay = TestClient(create_app(seeded), cookies={"capital_session": cookie})

    assert signed_out.status_code == 303
    assert replay.get("/schemes", follow_redirects=False).headers["location"].startswith("/sign-in")
    assert replay.get("/api/me").status_code == 401
    assert replay.post(SLIP_FORM, data={**SLIP, "csrf_token": csrf}).url.path == "/sign-in"


def test_too_many_wrong_passwords_show_the_wait_as_a_gov_uk_error(seeded: Container):
    browser = TestClient(create_app(seeded))
    for _ in range(seeded.settings.web.sign_in_attempts):
        form = browser.get("/sign-in")
        wrong = {
            "email": PEOPLE.finance,
            "password": "not it at all",
            "csrf_token": csrf_of(form.text),
        }
        assert browser.post("/sign-in", data=wrong).status_code == 401

    form = browser.get("/sign-in")
    right = {"email": PEOPLE.finance, "password": PASSWORD, "csrf_token": csrf_of(form.text)}
    throttled = browser.post("/sign-in", data=right)

    assert throttled.status_code == 429
    assert "govuk-error-summary" in throttled.text
    assert "Too many failed attempts to sign in. Wait 15 minutes" in throttled.text


def test_signing_in_from_a_link_goes_back_to_the_page_but_never_to_another_site(seeded):
    browser = TestClient(create_app(seeded))
    asked = browser.get(f"/schemes/{PM_SCHEME}", follow_redirects=False)
    assert asked.headers["location"] == f"/sign-in?next=%2Fschemes%2F{PM_SCHEME}"
    form = browser.get(asked.headers["location"]).text
    credentials = {"email": PEOPLE.finance, "password": PASSWORD, "csrf_token": csrf_of(form)}

    back = browser.post(f"/sign-in?next=/schemes/{PM_SCHEME}", data=credentials,
                        follow_redirects=False)  # fmt: skip
    elsewhere = TestClient(create_app(seeded))
    form = elsewhere.get("/sign-in").text
    away = elsewhere.post(
        "/sign-in?next=//evil.example/x",
        data={**credentials, "csrf_token": csrf_of(form)},
        follow_redirects=False,
    )

    assert back.headers["location"] == f"/schemes/{PM_SCHEME}"
    assert away.headers["location"] == "/"


def test_the_sign_in_page_offers_single_sign_on_only_when_it_is_set_up(make_container, sqlite_url):
    sso = {"issuer": "https://login.example/tenant/v2.0", "client_id": "capital"}
    with_sso = make_container(sqlite_url, web=WebSettings(sso=sso))
    without = make_container(sqlite_url)

    offered = TestClient(create_app(with_sso)).get("/sign-in").text
    plain = TestClient(create_app(without)).get("/sign-in").text

    assert 'href="/auth/sso/login"' in offered
    assert "Sign in with your council account" in offered
    assert "/auth/sso/login" not in plain


def test_an_unknown_page_or_scheme_is_a_not_found_page_but_the_api_stays_json(seeded):
    browser, _ = signed_in(seeded, PEOPLE.finance)

    missing = browser.get("/no-such-page")
    unknown = browser.get("/schemes/NO-SUCH-SCHEME")
    api = browser.get("/api/no-such-endpoint")

    assert missing.status_code == unknown.status_code == 404
    assert "Page not found" in missing.text and "Page not found" in unknown.text
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}


def test_the_session_cookie_is_secure_when_the_service_is_on_https(make_container, sqlite_url):
    container = make_container(
        sqlite_url, today=TODAY, web=WebSettings(base_url="https://capital.council.gov.uk")
    )
    seed(container, register=False)
    browser = TestClient(create_app(container), base_url="https://testserver")
    form = browser.get("/sign-in").text

    answer = browser.post(
        "/sign-in",
        data={"email": PEOPLE.finance, "password": PASSWORD, "csrf_token": csrf_of(form)},
        follow_redirects=False,
    )

    session = [c for c in answer.headers.get_list("set-cookie") if "capital_session=" in c]
    assert session and "Secure" in session[0] and "HttpOnly" in session[0]
