"""The one settings object. Every value comes from a flag, a `CAPITAL_*` environment
variable (nested with `__`, e.g. `CAPITAL_RAG__AMBER_MAX_SLIPPAGE_DAYS=20`) or a default."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from programme.rag import RagPolicy
from services.notifier.settings import NotifierSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CAPITAL_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    database_url: str = Field(
        "sqlite:///capital.db", description="SQLAlchemy URL: SQLite file or PostgreSQL."
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

    def kafka_topic(self, name: str) -> str:
        return f"{self.kafka_topic_prefix}{name}"

    def current_date(self) -> dt.date:
        return self.local_now().date()

    def local_now(self) -> dt.datetime:
        """Now in the deployment's time zone, so stamps like `recorded_at` fall on the date
        people in the office would give them; on the fixed date when `today` is set."""
        now = dt.datetime.now(ZoneInfo(self.timezone))
        return now if self.today is None else dt.datetime.combine(self.today, now.timetz())

    def calendar_date(self) -> dt.date:
        """The real date where the deployment is, whatever `today` is fixed to."""
        return dt.datetime.now(ZoneInfo(self.timezone)).date()

    def judging_date(self, as_of: dt.date | None) -> dt.date:
        """The date RAG is judged on: a past position as on that date (overdue then, not
        now) unless `today` is fixed; a date still to come as today."""
        return self.today or min(as_of or dt.date.max, self.current_date())


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
