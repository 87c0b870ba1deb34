"""The notifier's settings: nested under `Settings.notifier`, so every value can come from a
`CAPITAL_NOTIFIER__*` environment variable, e.g.

    CAPITAL_NOTIFIER__SMTP__HOST=smtp.council.gov.uk
    CAPITAL_NOTIFIER__SMTP__PORT=587
    CAPITAL_NOTIFIER__SMTP__STARTTLS=true
    CAPITAL_NOTIFIER__SMTP__USERNAME=capital-tracker
    CAPITAL_NOTIFIER__SMTP__PASSWORD=...            (a secret: never in the repository)
    CAPITAL_NOTIFIER__WEBHOOK__HMAC_SECRET=...      (a secret too)
    CAPITAL_NOTIFIER__SWEEP__AT=07:00
    CAPITAL_NOTIFIER__LATE_AFTER_DAYS=7
    CAPITAL_NOTIFIER__SUBSCRIBERS='[{"email": "head.of.capital@council.gov.uk"}]'

They live here rather than in `capital/` because the notifier reads them and services never
import the application shell (the same arrangement as `programme.rag.RagPolicy`). Every
model here hides the input from its validation errors: an error never quotes a password or
a webhook URL back.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from events import Severity
from services.notifier.subscriptions import (
    Recipient,
    Sealer,
    email_address,
    role_name,
    webhook_recipient,
)


class SmtpSettings(BaseModel):
    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    host: str = "localhost"
    port: int = Field(25, ge=1, le=65535)
    starttls: bool = Field(False, description="Upgrade a plain connection with STARTTLS.")
    ssl: bool = Field(False, description="Implicit TLS from the first byte (usually port 465).")
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field("capital-tracker@localhost", description="The From address.")
    timeout_s: float = Field(30.0, gt=0)
    ca_file: Path | None = Field(
        None, description="CA bundle to trust for TLS, e.g. a council's internal relay CA."
    )
    checks_message_id: bool = Field(
        False,
        description="The relay drops a message whose Message-ID it accepted before, so an "
        "email whose outcome a stopped worker left unknown is sent again automatically. "
        "Otherwise such an email waits for a person (`capital outbox retry`).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> SmtpSettings:
        if self.ssl and self.starttls:
            raise ValueError("choose ssl (implicit TLS) or starttls, not both")
        if self.username and self.password is None:
            raise ValueError("smtp username is set but password is not")
        if "@" not in self.sender:
            raise ValueError(f"smtp sender {self.sender!r} is not an email address")
        return self


WebhookFormat = Literal["generic", "slack", "teams"]


class WebhookSettings(BaseModel):
    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    urls: list[SecretStr] = Field(
        default_factory=list,
        description="Channels that receive every alert at the default severity, like a "
        "subscriber added with `capital subscribers add-webhook`. Secret: Slack and Teams "
        "incoming-webhook URLs carry their token.",
    )
    format: WebhookFormat = Field(
        "generic",
        description="generic: {text, alert} (Slack and Teams accept it); slack: Block Kit; "
        "teams: an Office 365 MessageCard.",
    )
    template: str | None = Field(
        None,
        description="A Jinja2 template rendering the JSON body, used instead of `format`. "
        "Context: alert or digest, subject, text, facts, colour; filter `tojson`.",
    )
    hmac_secret: SecretStr | None = Field(
        None, description="When set, every POST carries an HMAC-SHA256 signature header."
    )
    signature_header: str = "X-Capital-Signature"
    timeout_s: float = Field(10.0, gt=0)


class RetryPolicy(BaseModel):
    """Exponential backoff: attempt n waits initial * 2**(n-1), capped at `max_delay_s`.
    With the defaults a delivery is retried for about a day before it is marked failed."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    initial_delay_s: float = Field(30.0, gt=0)
    max_delay_s: float = Field(3600.0, gt=0)
    max_attempts: int = Field(30, ge=1)
    claim_timeout_s: float = Field(
        900.0,
        gt=0,
        description="A delivery still 'sending' after this long belonged to a worker that "
        "stopped mid-send; it is marked 'unknown' rather than sent again.",
    )
    batch_size: int = Field(50, ge=1, description="Deliveries handled per dispatch pass.")

    def delay_after(self, attempts: int) -> dt.timedelta:
        """How long to wait after the `attempts`-th failed attempt."""
        exponent = min(max(attempts - 1, 0), 32)  # bounded so the float never overflows
        return dt.timedelta(seconds=min(self.initial_delay_s * 2**exponent, self.max_delay_s))


class SweepSchedule(BaseModel):
    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    at: dt.time = Field(dt.time(7, 0), description="Local time of the daily sweep.")
    timezone: str = "Europe/London"
    dispatch_interval_s: float = Field(
        30.0,
        gt=0,
        description="How often a long-running notifier looks for deliveries that came due "
        "(retries); a delivery just queued is sent at once.",
    )
    run_lease_s: float = Field(
        1800.0,
        gt=0,
        description="A sweep claimed but not finished after this long is taken over.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class SubscriberSetting(BaseModel):
    """A subscriber defined by configuration rather than `capital subscribers add`."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    email: str | None = None
    webhook_url: SecretStr | None = None
    role: str = "head_of_capital"
    severity: Severity = Field(
        Severity.warning, description="Alerts at least this severe are sent at once."
    )
    schemes: list[str] = Field(default_factory=list, description="Only these; empty for all.")
    digest: bool = True

    @model_validator(mode="after")
    def _one_channel(self) -> SubscriberSetting:
        if (self.email is None) == (self.webhook_url is None):
            raise ValueError("a subscriber has exactly one of email or webhook_url")
        return self

    def recipient(self, sealer: Sealer) -> Recipient:
        """A webhook stays in the settings: the recipient only refers to it there."""
        fields: dict[str, Any] = {
            "role": role_name(self.role),
            "min_severity": self.severity,
            "schemes": frozenset(self.schemes),
            "digest": self.digest,
        }
        if self.webhook_url is not None:
            return webhook_recipient(
                _reveal(self.webhook_url), sealer, from_settings=True, **fields
            )
        return Recipient(
            channel="email",
            address=email_address(self.email or ""),
            source="settings",
            **fields,
        )


class NotifierSettings(BaseModel):
    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    sweep: SweepSchedule = Field(default_factory=SweepSchedule)
    subscribers: list[SubscriberSetting] = Field(default_factory=list)
    late_after_days: int = Field(
        7,
        ge=0,
        description="An event that reaches the notifier more than this many days after it "
        "happened (recorded late, or published or imported from an old history) raises its "
        "alerts in the next digest instead of at once; one a later event of the same scheme "
        "supersedes before then is never raised.",
    )

    def configured_recipients(self, sealer: Sealer) -> list[Recipient]:
        """Subscribers from settings, webhook URLs included; they cannot be removed with
        the CLI, only by changing the settings."""
        return [s.recipient(sealer) for s in self._subscriber_settings()]

    def configured_webhook_urls(self) -> list[str]:
        """Every webhook URL in the settings, in clear: for the webhook sender only."""
        return [
            _reveal(s.webhook_url) for s in self._subscriber_settings() if s.webhook_url is not None
        ]

    def _subscriber_settings(self) -> list[SubscriberSetting]:
        channels = [SubscriberSetting(webhook_url=url, role="channel") for url in self.webhook.urls]
        return [*self.subscribers, *channels]


def _reveal(secret: SecretStr | None) -> str:
    return secret.get_secret_value() if secret is not None else ""
