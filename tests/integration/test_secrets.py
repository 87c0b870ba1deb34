"""Secrets are never shown, logged or returned: a webhook URL's token, the SMTP password and
the single sign-on client secret, through the command line, the API and the logs, on
SQLite and PostgreSQL. Webhook URLs are kept encrypted with the deployment's key; without
one, PostgreSQL refuses to take one, and a key that changed fails the delivery, saying so."""

from __future__ import annotations

import datetime as dt
import logging
import stat
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import select
from typer.testing import CliRunner

from capital.api import create_app
from capital.application.accounts import add_user, issue_token, operator
from capital.application.publishing import to_message
from capital.bootstrap import Container, bootstrap
from capital.cli import app
from capital.keys import deployment_key
from capital.settings import Settings
from programme.permissions import Role
from services.notifier.store import AlertDelivery, DeliveryStatus
from tests.unit.notifier.scenarios import cype_018

KEY = "the-deployment-key-of-these-tests-0123456789"
TOKEN = "Xq7tok3nOfTheChannel"
HOOK = f"http://127.0.0.1:1/hooks/T0001/B0001/{TOKEN}"  # nothing listens on port 1
SHOWN_HOOK = "http://127.0.0.1:1/…nnel"
SMTP_PASSWORD = "smtp-pa55word-of-the-relay"
CLIENT_SECRET = "oidc-client-s3cret-of-the-portal"
ADMIN = "ana.lee@council.gov.uk"
SECRETS = (TOKEN, SMTP_PASSWORD, CLIENT_SECRET)


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch, database_url: str) -> str:
    """A deployment's environment, every secret set: an SMTP relay needing a login (down:
    port 1) and single sign-on with a client secret."""
    for name, value in {
        "CAPITAL_DATABASE_URL": database_url,
        "CAPITAL_SECRET_KEY": KEY,
        "CAPITAL_TODAY": "2022-10-14",
        "CAPITAL_NOTIFIER__SMTP__HOST": "127.0.0.1",
        "CAPITAL_NOTIFIER__SMTP__PORT": "1",
        "CAPITAL_NOTIFIER__SMTP__USERNAME": "capital-tracker",
        "CAPITAL_NOTIFIER__SMTP__PASSWORD": SMTP_PASSWORD,
        "CAPITAL_WEB__SSO__ISSUER": "https://login.example.org/tenant/v2.0",
        "CAPITAL_WEB__SSO__CLIENT_ID": "capital-tracker",
        "CAPITAL_WEB__SSO__CLIENT_SECRET": CLIENT_SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    return database_url


def signed_in_api(container: Container) -> TestClient:
    add_user(container.sessions, operator(container.sessions, "tests"), ADMIN, [Role.admin])
    issued = issue_token(
        container.sessions, operator(container.sessions, "tests", ADMIN), ADMIN, None
    )
    client = TestClient(create_app(container))
    client.headers["Authorization"] = f"Bearer {issued.token}"
    return client


def capital(*args: str) -> str:
    result = CliRunner().invoke(app, ["--actor", ADMIN, *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_webhook_token_is_in_no_listing_response_or_log_and_not_stored_in_clear(
    deployment: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    # uvicorn's own logging set-up stops its access log propagating; here it must reach
    # the captured log, whatever ran in this process before.
    monkeypatch.setattr(logging.getLogger("uvicorn.access"), "propagate", True)
    monkeypatch.setattr(logging.getLogger("uvicorn.access"), "disabled", False)
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    container = bootstrap(Settings())
    try:
        api = signed_in_api(container)
        subscribed = api.post(
            "/api/subscribers", json={"channel": "webhook", "address": HOOK, "severity": "info"}
        )
        added = api.post("/api/subscribers", json={"channel": "email", "address": ADMIN})
        assert (subscribed.status_code, added.status_code) == (201, 201), subscribed.text
        # A slip: alerts queued to both, and sent at once; the webhook and SMTP are down.
        container.publisher.send([to_message(e) for e in cype_018()])

        shown = [
            subscribed.text,
            api.get("/api/subscribers").text,
            api.get("/api/alerts").text,
            capital("subscribers", "list"),
            capital("subscribers", "list", "--format", "json"),
            capital("outbox", "list"),
            capital("outbox", "list", "--format", "json"),
            capital("alerts", "--format", "json"),
            capital("subscribers", "remove", HOOK),
        ]
        # The server's access log, as uvicorn writes it, for a removal by URL and by id.
        for path in (f"/api/subscribers/{quote(HOOK, safe='')}", "/api/subscribers/1"):
            logging.getLogger("uvicorn.access").info(
                '%s - "%s %s HTTP/%s" %d', "127.0.0.1:50000", "DELETE", path, "1.1", 404
            )
        with container.sessions() as session:
            deliveries = list(session.exec(select(AlertDelivery)))
    finally:
        container.close()

    assert {(d.channel, d.status) for d in deliveries} == {
        ("webhook", DeliveryStatus.cancelled),  # by `subscribers remove`
        ("email", DeliveryStatus.pending),
    }
    assert f"webhook {SHOWN_HOOK} unreachable: ConnectError" in shown[6]  # outbox list
    assert all(SHOWN_HOOK in text for text in shown[:8]), shown
    assert shown[-1].startswith(f"unsubscribed {SHOWN_HOOK} (#1)")
    assert "delivery" in caplog.text and "unreachable" in caplog.text  # it did log
    assert "/api/subscribers/… HTTP/1.1" in caplog.text and "/api/subscribers/1 " in caplog.text
    for text in [*shown, caplog.text]:
        for secret in SECRETS:
            assert secret not in text
    # And at rest: the URL is only in the delivery and subscriber rows, encrypted.
    assert not [d for d in deliveries if TOKEN in repr(d.model_dump())]


def test_without_a_key_postgresql_refuses_a_webhook_subscription_naming_the_setting(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAPITAL_DATABASE_URL", postgres_url)
    monkeypatch.delenv("CAPITAL_SECRET_KEY", raising=False)
    container = bootstrap(Settings())
    try:
        api = signed_in_api(container)
        refused = api.post("/api/subscribers", json={"channel": "webhook", "address": HOOK})
        command = CliRunner().invoke(app, ["--actor", ADMIN, "subscribers", "add-webhook", HOOK])
        email = api.post("/api/subscribers", json={"channel": "email", "address": ADMIN})
    finally:
        container.close()

    assert refused.status_code == 422
    [problem] = refused.json()["detail"]
    assert problem["loc"] == ["body", "address"]
    assert "no key is set: set CAPITAL_SECRET_KEY" in problem["msg"]
    assert command.exit_code == 2
    assert "set CAPITAL_SECRET_KEY" in command.output
    assert TOKEN not in refused.text + command.output
    assert email.status_code == 201  # email addresses are not secrets


def test_a_webhook_sealed_with_another_key_fails_its_delivery_saying_why(
    sqlite_url: str, make_container
) -> None:
    before = make_container(sqlite_url, secret_key=KEY)
    before.notifier.subscribe(before.notifier.recipient("webhook", HOOK), "ana.lee")
    before.close()
    rotated = make_container(
        sqlite_url,
        today=dt.date(2022, 10, 14),
        secret_key="a-new-key-nobody-re-encrypted-with",
        notifier={"smtp": {"host": "127.0.0.1", "port": 1}},
    )

    rotated.publisher.send([to_message(e) for e in cype_018()])  # the worker carries on

    [delivery] = rotated.notifier.deliveries()
    assert delivery.status == DeliveryStatus.failed
    assert delivery.last_error == (
        "webhook not sent: the webhook URL cannot be decrypted with this deployment's key: "
        "CAPITAL_SECRET_KEY (or the key file beside the SQLite database) is not the key it "
        "was encrypted with; restore that key, or subscribe the webhook again"
    )


def test_sqlite_without_a_key_gets_one_made_once_beside_the_database(tmp_path: Path) -> None:
    database = tmp_path / "capital.db"
    url = f"sqlite:///{database}"

    made = deployment_key(url, None)
    again = deployment_key(url, None)

    key_file = tmp_path / "capital.db.key"
    assert made == again == key_file.read_text().strip() and len(made or "") >= 40
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert deployment_key(url, Settings(secret_key=KEY).secret_key) == KEY
    assert deployment_key("postgresql+psycopg://capital@db/capital", None) is None


def test_the_former_web_secret_key_setting_still_sets_the_deployment_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CAPITAL_SECRET_KEY", raising=False)
    monkeypatch.setenv("CAPITAL_WEB__SECRET_KEY", KEY)
    assert Settings().secret_key is not None
    assert Settings().secret_key.get_secret_value() == KEY  # type: ignore[union-attr]

    monkeypatch.setenv("CAPITAL_SECRET_KEY", "another-key")
    with pytest.raises(ValidationError, match="CAPITAL_WEB__SECRET_KEY \\(its former name\\)"):
        Settings()


def test_settings_never_show_the_smtp_password_or_the_client_secret(
    deployment: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = Settings()
    assert settings.notifier.smtp.password is not None  # it was read
    assert settings.web.sso.client_secret is not None

    # Settings that do not fit together: the error names the problem, never the values.
    monkeypatch.setenv("CAPITAL_NOTIFIER__SMTP__SSL", "true")
    monkeypatch.setenv("CAPITAL_NOTIFIER__SMTP__STARTTLS", "true")
    command = CliRunner().invoke(app, ["subscribers", "list"])
    with pytest.raises(ValidationError) as refused:
        Settings()

    assert command.exit_code == 2
    assert "invalid settings: notifier.smtp: Value error, choose ssl" in command.output
    for shown in (repr(settings), str(settings), command.output, str(refused.value), caplog.text):
        for secret in SECRETS:
            assert secret not in shown
