"""Alerts delivered to real servers started by the tests: an SMTP server (aiosmtpd, plain,
STARTTLS with login, implicit TLS) and an HTTP server for webhooks; an SMTP outage that
ends with every alert delivered exactly once; the scheduled sweep job run with a fixed
date; and the path a user takes through the command line with the in-memory bus."""

from __future__ import annotations

import datetime as dt
import email.policy
import hmac
import json
import logging
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from typer.testing import CliRunner

from capital.application.publishing import to_message
from capital.bootstrap import Container
from capital.cli import app
from events import Envelope
from programme.rag import RagPolicy
from projection.database import SessionFactory
from services.notifier.delivery.email import SmtpNotifier
from services.notifier.delivery.webhook import TIMESTAMP_HEADER, WebhookNotifier, signature
from services.notifier.scheduler import SWEEP_JOB
from services.notifier.service import NotifierService
from services.notifier.settings import NotifierSettings
from services.notifier.vault import AddressVault
from services.tracker.handlers import Applied, SchemeTracker
from tests.builders import event, registered
from tests.unit.notifier.fakes import FakeClock
from tests.unit.notifier.scenarios import cype_018, notifier_database

SENDER = "capital-tracker@council.gov.uk"
HEAD = "head.of.capital@council.gov.uk"
SLIP_SUBJECT = "[RED] CYPE-018 slipped 70 days: new completion 6 Jan 2023"


def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# A real SMTP server ----------------------------------------------------------------------


class Mailbox:
    """An aiosmtpd handler keeping every message it accepts, and who logged in."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        self.messages.append(BytesParser(policy=email.policy.default).parsebytes(raw))
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"relay-password"
        if ok:
            self.logins.append(auth_data.login.decode())
        # handled=False: aiosmtpd itself answers 535 to a refused login.
        return AuthResult(success=ok, handled=False)

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., tuple[Mailbox, int]]]:
    """Start an SMTP server (on a given port if asked); all are stopped after the test."""
    running: list[Controller] = []

    def start(port: int | None = None, login: bool = False, **options: Any) -> tuple[Mailbox, int]:
        mailbox = Mailbox()
        port = port or free_port()
        if login:
            options["authenticator"] = mailbox.authenticate
        controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
        controller.start()
        running.append(controller)
        return mailbox, port

    yield start
    for controller in running:
        controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, the client trusting it as its CA."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    request = "req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1"
    subprocess.run(
        [
            "openssl",
            *request.split(),
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def relay(port: int, certificate: tuple[Path, Path], **security: Any) -> dict[str, Any]:
    """SMTP settings for the test relay, trusting its certificate; a password logs in."""
    login = {"username": "capital-relay"} if "password" in security else {}
    return {
        "host": "127.0.0.1",
        "port": port,
        "ca_file": str(certificate[0]),
        "sender": SENDER,
        **login,
        **security,
    }


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    return context


# A real webhook receiver -----------------------------------------------------------------


class Hook:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.replies: list[int] = []  # statuses to answer with, in order; then 200

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
def webhook_server() -> Iterator[tuple[Hook, str]]:
    hook = Hook()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hook.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(hook.replies.pop(0) if hook.replies else 200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hook, f"http://127.0.0.1:{server.server_port}/hooks/capital/T0123/secret-token"
    server.shutdown()
    server.server_close()


def verify_signature(headers: dict[str, str], body: bytes, secret: str) -> bool:
    expected = signature(secret, headers[TIMESTAMP_HEADER.lower()], body)
    return hmac.compare_digest(expected, headers["x-capital-signature"])


# A notifier with real adapters, a clock moved by hand and real SQL ----------------------


@pytest.fixture
def sessions(database_url: str) -> Iterator[SessionFactory]:
    with notifier_database(database_url) as made:
        yield made


@pytest.fixture
def notifier_with(sessions: SessionFactory) -> Iterator[Callable[..., NotifierService]]:
    built: list[NotifierService] = []

    def build(clock: FakeClock | None = None, **settings: Any) -> NotifierService:
        config = NotifierSettings.model_validate(settings)
        notifier = NotifierService(
            sessions,
            config,
            RagPolicy(),
            {
                "email": SmtpNotifier(config.smtp),
                # No key: webhooks from the settings need none, they stay in the settings.
                "webhook": WebhookNotifier(
                    config.webhook, AddressVault(None, config.configured_webhook_urls())
                ),
            },
            now=clock or on_the_day_of_the_slip(),
        )
        built.append(notifier)
        return notifier

    yield build
    for notifier in built:
        notifier.close()


def on_the_day_of_the_slip() -> FakeClock:
    """The notifier's clock the afternoon CYPE-018's slip is logged: news, sent at once."""
    return FakeClock(dt.datetime(2022, 10, 14, 17, 0, tzinfo=dt.UTC))


def raise_alerts(sessions: SessionFactory, notifier: NotifierService, *events: Envelope) -> None:
    """Apply events with the real tracker and hand its state changes to the notifier."""
    tracker = SchemeTracker(
        sessions, RagPolicy(), today=lambda: dt.date(2022, 10, 14), now=on_the_day_of_the_slip()
    )
    for scheme_event in events:
        outcome = tracker.handle(scheme_event.model_dump_json().encode())
        assert isinstance(outcome, Applied)
        notifier.state_changes.handle(outcome.change.model_dump_json().encode(), "test")


def test_an_alert_email_reaches_a_real_smtp_server_with_text_and_html_parts(
    smtp_server, notifier_with, sessions: SessionFactory
) -> None:
    mailbox, port = smtp_server()
    notifier = notifier_with(
        smtp={"host": "127.0.0.1", "port": port, "sender": SENDER},
        subscribers=[{"email": HEAD}],
    )
    raise_alerts(sessions, notifier, *cype_018())

    assert notifier.outbox.dispatch_due().sent == 1

    [message] = mailbox.messages
    assert message["Subject"] == SLIP_SUBJECT
    assert (message["From"], message["To"]) == (SENDER, HEAD)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for part in (text, html):
        assert "28 Oct 2022" in part and "6 Jan 2023" in part  # old and new dates
        assert "70" in part and "green → red" in part  # slippage and the new RAG
        assert "Asbestos found in the old kitchen ceiling void" in part
        assert "estates.pm" in part  # who logged it
    assert html.lstrip().startswith("<!DOCTYPE html>")


def test_email_goes_through_starttls_with_the_relay_login(
    smtp_server, notifier_with, sessions: SessionFactory, certificate
) -> None:
    mailbox, port = smtp_server(
        login=True,
        tls_context=server_tls(certificate),
        require_starttls=True,
        auth_require_tls=True,
    )
    notifier = notifier_with(
        smtp=relay(port, certificate, starttls=True, password="relay-password"),
        subscribers=[{"email": HEAD}],
    )
    raise_alerts(sessions, notifier, *cype_018())

    assert notifier.outbox.dispatch_due().sent == 1
    assert mailbox.subjects() == [SLIP_SUBJECT]
    assert mailbox.logins == ["capital-relay"]


def test_email_goes_over_implicit_tls(
    smtp_server, notifier_with, sessions: SessionFactory, certificate
) -> None:
    mailbox, port = smtp_server(ssl_context=server_tls(certificate))
    notifier = notifier_with(smtp=relay(port, certificate, ssl=True), subscribers=[{"email": HEAD}])
    raise_alerts(sessions, notifier, *cype_018())

    assert notifier.outbox.dispatch_due().sent == 1
    assert mailbox.subjects() == [SLIP_SUBJECT]


def test_a_wrong_relay_password_keeps_the_email_queued_until_it_is_fixed(
    smtp_server,
    notifier_with,
    sessions: SessionFactory,
    certificate,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mailbox, port = smtp_server(
        login=True,
        tls_context=server_tls(certificate),
        require_starttls=True,
    )
    caplog.set_level(logging.DEBUG)
    smtp = relay(port, certificate, starttls=True, password="wrong")
    clock = on_the_day_of_the_slip()
    notifier = notifier_with(clock, smtp=smtp, subscribers=[{"email": HEAD}])
    raise_alerts(sessions, notifier, *cype_018())

    assert notifier.outbox.dispatch_due().retrying == 1
    [delivery] = notifier.deliveries()
    assert "535" in (delivery.last_error or "")

    fixed = notifier_with(clock, smtp={**smtp, "password": "relay-password"})
    clock.advance(minutes=1)
    assert fixed.outbox.dispatch_due().sent == 1
    assert mailbox.subjects() == [SLIP_SUBJECT]
    assert "delivered alert" in caplog.text
    assert "relay-password" not in caplog.text


def test_an_alert_reaches_a_real_webhook_as_signed_json(
    webhook_server, notifier_with, sessions: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hook, url = webhook_server
    notifier = notifier_with(
        webhook={"hmac_secret": "shared-with-the-receiver", "format": "teams"},
        subscribers=[{"webhook_url": url}],
    )
    raise_alerts(sessions, notifier, *cype_018())

    assert notifier.outbox.dispatch_due().sent == 1

    [(headers, body)] = hook.requests
    assert verify_signature(headers, body, "shared-with-the-receiver")
    assert not verify_signature(headers, body, "someone-else")
    assert abs(int(headers["x-capital-timestamp"]) - time.time()) < 60
    assert headers["content-type"].startswith("application/json")
    card = json.loads(body)
    assert card["title"] == SLIP_SUBJECT
    facts = {f["name"]: f["value"] for f in card["sections"][0]["facts"]}
    assert facts["Reason"] == "Asbestos found in the old kitchen ceiling void"
    # Logged, by the HTTP client too, but never with the URL's secret part.
    assert "HTTP Request: POST http://127.0.0.1:" in caplog.text
    assert "secret-token" not in caplog.text
    assert facts["Logged by"] == "estates.pm"


def test_a_webhook_answering_500_is_retried_with_the_same_delivery_id(
    webhook_server, notifier_with, sessions: SessionFactory
) -> None:
    hook, url = webhook_server
    clock = on_the_day_of_the_slip()
    notifier = notifier_with(clock, subscribers=[{"webhook_url": url}])
    hook.replies = [500]
    raise_alerts(sessions, notifier, *cype_018())

    assert notifier.outbox.dispatch_due().retrying == 1
    clock.advance(seconds=30)
    assert notifier.outbox.dispatch_due().sent == 1

    first, second = (headers for headers, _ in hook.requests)
    assert first["x-capital-delivery"] == second["x-capital-delivery"]
    assert first["idempotency-key"] == second["idempotency-key"] == first["x-capital-delivery"]


def test_a_webhook_answering_404_is_failed_at_once_and_listed(
    webhook_server, notifier_with, sessions: SessionFactory
) -> None:
    hook, url = webhook_server
    notifier = notifier_with(subscribers=[{"webhook_url": url}])
    hook.replies = [404]
    raise_alerts(sessions, notifier, *cype_018())

    assert notifier.outbox.dispatch_due().failed == 1
    [delivery] = notifier.deliveries(status="failed")
    assert "answered 404" in (delivery.last_error or "")
    assert "secret-token" not in (delivery.last_error or "")  # the URL's token stays secret


def test_every_alert_arrives_exactly_once_after_an_smtp_outage(
    smtp_server, notifier_with, sessions: SessionFactory
) -> None:
    port = free_port()  # nothing listens yet: the relay is down
    clock = on_the_day_of_the_slip()
    notifier = notifier_with(
        clock,
        smtp={"host": "127.0.0.1", "port": port, "sender": SENDER},
        subscribers=[{"email": HEAD}, {"email": "deputy@council.gov.uk"}],
    )
    schemes = ["CYPE-018", "CYPE-019", "CYPE-020"]
    for scheme in schemes:
        raise_alerts(
            sessions,
            notifier,
            registered(scheme, on="2022-06-30", baseline_completion="2022-10-28"),
            event(
                "completion.revised",
                "2022-10-14",
                scheme,
                anticipated_completion="2023-01-06",
                reason="Asbestos",
            ),
        )

    for _ in range(2):  # two passes while the relay is down: nothing lost, nothing sent
        report = notifier.outbox.dispatch_due()
        assert report.sent == 0 and report.retrying == 1 and report.deferred >= 0
        clock.advance(minutes=5)
    mailbox, _ = smtp_server(port=port)  # the relay comes back
    report = notifier.outbox.dispatch_due()
    again = notifier.outbox.dispatch_due()

    assert (report.sent, again.sent) == (6, 0)
    received = sorted((str(m["To"]), str(m["Subject"])) for m in mailbox.messages)
    expected = sorted(
        (to, f"[RED] {scheme} slipped 70 days: new completion 6 Jan 2023")
        for scheme in schemes
        for to in (HEAD, "deputy@council.gov.uk")
    )
    assert received == expected
    assert len({m["Message-ID"] for m in mailbox.messages}) == 6
    assert {d.status for d in notifier.deliveries()} == {"sent"}


# Through the application shell -----------------------------------------------------------


def test_the_scheduled_sweep_job_run_for_a_date_emails_overdue_alerts_and_the_digest(
    smtp_server, make_container, database_url: str
) -> None:
    mailbox, port = smtp_server()
    container: Container = make_container(
        database_url,
        today=dt.date(2023, 1, 9),
        notifier=NotifierSettings.model_validate(
            {
                "smtp": {"host": "127.0.0.1", "port": port, "sender": SENDER},
                "subscribers": [{"email": HEAD, "severity": "critical"}],
            }
        ),
    )
    container.publisher.send([to_message(e) for e in cype_018()])
    mailbox.messages.clear()  # the slippage email; the sweep is what is under test
    job = container.notifier_scheduler().get_job(SWEEP_JOB)

    job.func()  # what APScheduler calls at 07:00; --today fixes the date it sweeps
    job.func()  # a second run the same day (another replica) sends nothing more

    subjects = mailbox.subjects()
    assert "[RED] CYPE-018 overdue: completion was due 6 Jan 2023 (3 days ago)" in subjects
    digest = next(m for m in mailbox.messages if "digest" in str(m["Subject"]))
    assert digest["Subject"] == "Capital programme digest 9 Jan 2023: 2 alerts, 1 red, 0 amber"
    assert "CYPE-018" in digest.get_body(("plain",)).get_content()
    assert len(subjects) == 2


def test_a_slip_published_with_the_cli_is_emailed_posted_listed_and_acknowledged(
    smtp_server, webhook_server, database_url: str, tmp_path: Path
) -> None:
    mailbox, port = smtp_server()
    hook, url = webhook_server
    env = {
        "CAPITAL_DATABASE_URL": database_url,
        "CAPITAL_BUS": "memory",
        "CAPITAL_TODAY": "2022-10-14",
        "CAPITAL_ACTOR": "ana.lee",
        "CAPITAL_NOTIFIER__SMTP__HOST": "127.0.0.1",
        "CAPITAL_NOTIFIER__SMTP__PORT": str(port),
        "CAPITAL_NOTIFIER__SMTP__SENDER": SENDER,
        "CAPITAL_NOTIFIER__WEBHOOK__HMAC_SECRET": "shared-with-the-receiver",
        # Keeps the webhook URL encrypted (SQLite would make a key file without it).
        "CAPITAL_SECRET_KEY": "the-deployment-key-of-this-test",
    }
    runner = CliRunner()

    def capital(*args: str) -> str:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.stdout

    events_file = tmp_path / "cype-018.jsonl"
    events_file.write_text("".join(e.model_dump_json() + "\n" for e in cype_018()))

    capital("subscribers", "add", HEAD, "--role", "head_of_capital", "--severity", "warning")
    capital("subscribers", "add-webhook", url, "--severity", "critical")
    capital("publish", str(events_file))

    # Delivered while `capital publish` ran: no worker, no second command.
    assert mailbox.subjects() == [SLIP_SUBJECT]
    [(headers, body)] = hook.requests
    assert verify_signature(headers, body, "shared-with-the-receiver")
    assert json.loads(body)["alert"]["scheme_id"] == "CYPE-018"

    [alert] = json.loads(capital("alerts", "--format", "json"))
    assert {k: alert[k] for k in ("scheme_id", "kind", "severity", "delivery_status")} == {
        "scheme_id": "CYPE-018",
        "kind": "slippage",
        "severity": "critical",
        "delivery_status": "sent",
    }
    assert alert["message"].startswith("CYPE-018 slipped 70 days")
    assert alert["acknowledged"] is False
    assert {d["status"] for d in alert["deliveries"]} == {"sent"}

    assert "acknowledged" in capital("alerts", "ack", alert["alert_id"][:8])
    capital("publish", str(events_file))  # the same events again: nothing new is raised

    [again] = json.loads(capital("alerts", "--format", "json", "--scheme", "CYPE-018"))
    assert again["acknowledged"] is True
    # The person, and the operator account the command line ran under.
    assert again["acknowledged_by"].startswith("ana.lee (operator:")
    assert mailbox.subjects() == [SLIP_SUBJECT] and len(hook.requests) == 1
    assert json.loads(capital("alerts", "--format", "json", "--scheme", "OTHER")) == []


def test_the_sweep_command_sends_overdue_alerts_and_digests_once_per_date(
    smtp_server, database_url: str, make_container
) -> None:
    mailbox, port = smtp_server()
    container = make_container(database_url, today=dt.date(2022, 10, 14))
    container.publisher.send([to_message(e) for e in cype_018()])
    env = {
        "CAPITAL_DATABASE_URL": database_url,
        "CAPITAL_NOTIFIER__SMTP__HOST": "127.0.0.1",
        "CAPITAL_NOTIFIER__SMTP__PORT": str(port),
        "CAPITAL_NOTIFIER__SMTP__SENDER": SENDER,
        "CAPITAL_NOTIFIER__SUBSCRIBERS": json.dumps([{"email": HEAD, "severity": "critical"}]),
    }
    runner = CliRunner()

    first = runner.invoke(app, ["sweep", "--today", "2023-01-09"], env=env)
    second = runner.invoke(app, ["sweep", "--today", "2023-01-09"], env=env)

    assert first.exit_code == 0, first.output
    assert "Swept 2023-01-09: 1 overdue alert(s) raised" in first.stdout
    assert "outbox: 2 sent, 0 waiting" in first.stdout
    assert second.exit_code == 0 and "was swept already" in second.stdout
    # The slip was raised (and sent) on 14 Oct 2022 by the deployment's clock, long before
    # this first digest, which covers the day before it: only the overdue alert is new.
    assert sorted(mailbox.subjects()) == [
        "Capital programme digest 9 Jan 2023: 1 alert, 1 red, 0 amber",
        "[RED] CYPE-018 overdue: completion was due 6 Jan 2023 (3 days ago)",
    ]
