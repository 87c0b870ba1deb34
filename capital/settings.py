"""The one settings object. Every value comes from a flag, a `CAPITAL_*` environment
variable (nested with `__`, e.g. `CAPITAL_RAG__AMBER_MAX_SLIPPAGE_DAYS=20`) or a default."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from programme.permissions import Role
from programme.rag import RagPolicy
from programme.scheme import CLOCK_SKEW
from services.notifier.settings import NotifierSettings


class SingleSignOn(BaseModel):
    """OpenID Connect sign-in (Microsoft Entra ID or any provider). Claims map to roles by
    the email's domain and by a groups claim; a person whose claims map to nothing is
    let in with no role until an administrator gives them one."""

    model_config = ConfigDict(hide_input_in_errors=True)  # the client secret is never quoted

    issuer: str | None = Field(
        None, description="e.g. https://login.microsoftonline.com/<tenant-id>/v2.0"
    )
    metadata_url: str | None = Field(
        None, description="The discovery document; defaults to the issuer's well-known URL."
    )
    client_id: str | None = None
    client_secret: SecretStr | None = None
    scopes: str = "openid email profile"
    groups_claim: str = "groups"
    group_roles: dict[str, Role] = Field(
        default_factory=dict, description="Group id or name -> role."
    )
    domain_roles: dict[str, Role] = Field(
        default_factory=dict, description='Email domain -> role, e.g. {"council.gov.uk": ...}.'
    )
    label: str = "your council account"

    @property
    def enabled(self) -> bool:
        return bool(self.issuer and self.client_id)

    @property
    def discovery_url(self) -> str:
        issuer = (self.issuer or "").rstrip("/")
        return self.metadata_url or f"{issuer}/.well-known/openid-configuration"

    def roles_for(self, email: str, groups: list[str]) -> frozenset[Role]:
        domain = email.rpartition("@")[2].lower()
        mapped = {role for d, role in self.domain_roles.items() if d.lower() == domain}
        mapped |= {role for group, role in self.group_roles.items() if group in groups}
        return frozenset(mapped)


class WebSettings(BaseModel):
    """`capital serve`: the HTTP API (and the portal's pages)."""

    service_name: str = "Capital Tracker"
    base_url: str = Field(
        "http://127.0.0.1:8000", description="Where users reach the service; links use it."
    )
    session_hours: int = Field(12, ge=1, le=24 * 30)
    max_body_bytes: int = Field(2_000_000, ge=1024, description="Larger requests get 413.")
    publish_wait_seconds: float = Field(
        10.0, ge=0, description="On Kafka, how long POST /api/events waits for the tracker."
    )
    sign_in_attempts: int = Field(5, ge=1, description="Failures allowed per account/address.")
    sign_in_window_minutes: int = Field(15, ge=1)
    sso: SingleSignOn = Field(default_factory=SingleSignOn)
    frontend_modules: Path | None = Field(
        None,
        description="Where `npm ci` installed the portal's front-end packages; defaults to "
        "capital/web/frontend/node_modules in a checkout (scripts/setup puts them there).",
    )

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CAPITAL_",
        env_nested_delimiter="__",
        extra="ignore",
        frozen=True,
        # Settings hold secrets: an error never quotes the value it refused.
        hide_input_in_errors=True,
    )

    database_url: str = Field(
        "sqlite:///capital.db", description="SQLAlchemy URL: SQLite file or PostgreSQL."
    )
    secret_key: SecretStr | None = Field(
        None,
        description="The deployment's secret (any long random string, the same for every "
        "process): encrypts webhook URLs at rest and signs the single sign-on state cookie. "
        "Unset on SQLite, a key is made once in a file beside the database "
        "(capital.db.key); unset on PostgreSQL, webhook subscriptions are refused. "
        "Formerly CAPITAL_WEB__SECRET_KEY, still read.",
    )
    upgrade_schema_on_start: bool = Field(
        True,
        description="Bring a PostgreSQL database to the current schema when a process "
        "starts; false leaves that to `capital db upgrade` and refuses an out-of-date "
        "schema. SQLite, the embedded default, is always upgraded.",
    )
    bus: Literal["memory", "kafka"] = "memory"
    kafka_bootstrap: str = "127.0.0.1:19092"
    kafka_partitions: int = Field(6, ge=1, description="Partitions of the scheme events topic.")
    kafka_app_id: str = "capital"
    kafka_topic_prefix: str = Field(
        "", description="Prefix of every topic name, so deployments can share a cluster."
    )
    kafka_session_timeout_s: float = Field(10.0, gt=0)
    worker_data_dir: Path = Path(".capital-worker")
    worker_web_port: int | None = Field(None, description="Faust web port; off when unset.")
    timezone: str = "Europe/London"
    today: dt.date | None = Field(None, description="Fixes the clock for RAG and sweeps.")
    actor: str | None = Field(
        None,
        description="The user an operator acts as on the command line (their roles apply; "
        "the operator's OS account is recorded beside every write).",
    )
    clock_skew: dt.timedelta = Field(
        CLOCK_SKEW,
        description="How far a recorded_at may be ahead of our clock (seconds or ISO 8601).",
    )
    rag: RagPolicy = RagPolicy()
    repeat_window_minutes: int = Field(
        10,
        ge=0,
        description="A change identical to one the same user recorded this many minutes "
        "before is refused unless confirmed (`--again`); 0 turns the check off.",
    )
    committee_name: str = Field(
        "Capital Programme Board", description="Who the committee pack is for (its cover)."
    )
    notifier: NotifierSettings = Field(default_factory=NotifierSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    @model_validator(mode="before")
    @classmethod
    def _one_secret_key(cls, data: Any) -> Any:
        """CAPITAL_WEB__SECRET_KEY was the key's name when it only signed the cookie."""
        web = data.get("web") if isinstance(data, dict) else None
        if not isinstance(web, dict) or "secret_key" not in web:
            return data
        web = dict(web)
        former = web.pop("secret_key")
        current = data.get("secret_key")
        if current and _revealed(current) and _revealed(current) != _revealed(former):
            raise ValueError(
                "CAPITAL_SECRET_KEY and CAPITAL_WEB__SECRET_KEY (its former name) differ: "
                "set CAPITAL_SECRET_KEY only"
            )
        kept = current if current and _revealed(current) else former
        return {**data, "web": web, "secret_key": kept}

    def kafka_topic(self, name: str) -> str:
        return f"{self.kafka_topic_prefix}{name}"

    def current_date(self) -> dt.date:
        return self.local_now().date()

    def local_now(self) -> dt.datetime:
        """Now in the deployment's time zone, so stamps like `recorded_at` fall on the date
        people in the office would give them; on the fixed date when `today` is set."""
        now = dt.datetime.now(ZoneInfo(self.timezone))
        return now if self.today is None else dt.datetime.combine(self.today, now.timetz())

    def latest_recorded_at(self) -> dt.datetime:
        """The latest `recorded_at` an event may carry and be believed: now plus the clock
        skew; with the date fixed (`today`), any time on that date, whose hour is not."""
        if self.today is not None:
            end_of_day = dt.datetime.combine(self.today, dt.time.max, ZoneInfo(self.timezone))
            return end_of_day + self.clock_skew
        return self.local_now() + self.clock_skew

    def calendar_date(self) -> dt.date:
        """The real date where the deployment is, whatever `today` is fixed to."""
        return dt.datetime.now(ZoneInfo(self.timezone)).date()

    def judging_date(self, as_at: dt.date | None) -> dt.date:
        """The date RAG is judged on when a reader does not say: a past position as on
        that date (overdue then, not now); now, or a date still to come, as today."""
        return min(as_at or dt.date.max, self.current_date())


def _revealed(value: Any) -> Any:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
