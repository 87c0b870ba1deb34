"""Who hears about what, and how the notifier is configured."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from pydantic import ValidationError

from capital.settings import Settings
from events import AlertKind, AlertRaised, Severity
from services.notifier.settings import NotifierSettings, SmtpSettings, SweepSchedule
from services.notifier.subscriptions import Recipient, email_address, masked, merge, webhook_url
from services.notifier.vault import AddressVault


def alert(severity: Severity, scheme_id: str = "S-1") -> AlertRaised:
    return AlertRaised(
        alert_id=uuid.uuid4(),
        dedup_key=f"test:{uuid.uuid4()}",
        scheme_id=scheme_id,
        kind=AlertKind.slippage,
        severity=severity,
        subject="[AMBER] S-1 slipped",
        message="S-1 slipped",
        raised_at=dt.datetime(2024, 7, 29, tzinfo=dt.UTC),
    )


def test_a_subscriber_hears_at_once_about_alerts_at_or_above_their_threshold() -> None:
    head = Recipient(channel="email", address="head@council.gov.uk", min_severity=Severity.warning)

    assert head.wants_now(alert(Severity.critical))
    assert head.wants_now(alert(Severity.warning))
    assert not head.wants_now(alert(Severity.info))


def test_a_subscriber_following_schemes_hears_only_about_those() -> None:
    pm = Recipient(channel="email", address="pm@council.gov.uk", schemes=frozenset({"S-2"}))

    assert pm.wants_now(alert(Severity.critical, "S-2"))
    assert not pm.wants_now(alert(Severity.critical, "S-1"))


def test_email_addresses_are_one_subscriber_however_they_are_typed() -> None:
    assert email_address("  Ana.Lee@Council.GOV.uk ") == "ana.lee@council.gov.uk"
    with pytest.raises(ValueError, match="not an email address"):
        email_address("ana.lee")


def test_webhook_urls_must_be_http_and_are_masked_when_shown() -> None:
    url = webhook_url("https://hooks.slack.com/services/T000/B000/XXXXsecret")

    assert masked("webhook", url) == "https://hooks.slack.com/…cret"
    with pytest.raises(ValueError):
        webhook_url("ftp://example.org/hook")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://svc:s3cretpw@hooks.example.com/services/T0/B0/tok3n",
            "https://hooks.example.com/…ok3n",
        ),
        (
            "https://svc:s3cretpw@hooks.example.com:8443/hook/tok3n",
            "https://hooks.example.com:8443/…ok3n",
        ),
        ("http://s3cretpw@[::1]:9000/services/T0/B0/tok3n", "http://[::1]:9000/…ok3n"),
    ],
)
def test_a_masked_webhook_url_never_shows_credentials_before_the_host(url: str, shown: str) -> None:
    assert masked("webhook", webhook_url(url)) == shown
    assert "s3cretpw" not in masked("webhook", url)


def test_settings_subscribers_are_overridden_by_the_same_address_made_with_the_cli() -> None:
    configured = Recipient(channel="email", address="a@x.org", source="settings")
    stored = Recipient(channel="email", address="a@x.org", min_severity=Severity.critical)
    other = Recipient(channel="email", address="b@x.org", source="settings")

    merged = merge([stored], [configured, other])

    assert [(r.address, r.source) for r in merged] == [("a@x.org", "cli"), ("b@x.org", "settings")]


def test_notifier_settings_come_from_capital_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CAPITAL_NOTIFIER__SMTP__HOST", "smtp.council.gov.uk")
    monkeypatch.setenv("CAPITAL_NOTIFIER__SMTP__PORT", "587")
    monkeypatch.setenv("CAPITAL_NOTIFIER__SMTP__STARTTLS", "true")
    monkeypatch.setenv("CAPITAL_NOTIFIER__SMTP__USERNAME", "capital")
    monkeypatch.setenv("CAPITAL_NOTIFIER__SMTP__PASSWORD", "s3cret-value")
    monkeypatch.setenv("CAPITAL_NOTIFIER__SWEEP__AT", "06:30")
    monkeypatch.setenv(
        "CAPITAL_NOTIFIER__SUBSCRIBERS",
        '[{"email": "head@council.gov.uk", "severity": "critical", "schemes": ["CYPE-018"]}]',
    )

    notifier = Settings().notifier

    assert (notifier.smtp.host, notifier.smtp.port, notifier.smtp.starttls) == (
        "smtp.council.gov.uk",
        587,
        True,
    )
    assert notifier.sweep.at == dt.time(6, 30)
    [head] = notifier.configured_recipients(AddressVault(None))
    assert (head.address, head.min_severity, head.schemes) == (
        "head@council.gov.uk",
        Severity.critical,
        frozenset({"CYPE-018"}),
    )
    assert "s3cret-value" not in repr(notifier)


def test_webhook_urls_in_settings_become_channels_that_hear_warnings() -> None:
    settings = NotifierSettings.model_validate(
        {"webhook": {"urls": ["https://example.webhook.office.com/webhookb2/abc"]}}
    )

    [channel] = settings.configured_recipients(AddressVault(None))

    assert (channel.channel, channel.role, channel.min_severity) == (
        "webhook",
        "channel",
        Severity.warning,
    )


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"ssl": True, "starttls": True}, "not both"),
        ({"username": "capital"}, "password is not"),
        ({"sender": "capital-tracker"}, "not an email address"),
    ],
)
def test_inconsistent_smtp_settings_are_refused_at_start_up(settings: dict, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        SmtpSettings.model_validate(settings)


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        SweepSchedule(timezone="Europe/Londn")


def test_a_subscriber_in_settings_names_exactly_one_channel() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        NotifierSettings.model_validate(
            {"subscribers": [{"email": "a@x.org", "webhook_url": "https://x.org/h"}]}
        )
