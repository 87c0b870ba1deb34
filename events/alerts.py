"""What the notifier tells the world: an alert about a scheme, published on `capital.alerts`.

`alert_id` is derived from `dedup_key`, so an alert raised again after a crash or a replay
carries the same id and every consumer can de-duplicate without asking the notifier.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

ALERT_NAMESPACE = uuid.UUID("0b9f5d2e-51c4-4c1e-9d0e-7a4f3c8e2b61")
ALERT_VERSION = 1

# Details are flat facts a person reads (dates as ISO text, money as decimal text), so a
# consumer never has to know our models to show them.
DetailValue = str | int | None


class AlertKind(StrEnum):
    slippage = "slippage"
    overdue = "overdue"
    rag_change = "rag_change"
    budget = "budget"


class Severity(StrEnum):
    info = "info"
    warning = "warning"
    critical = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def at_least(self, threshold: Severity) -> bool:
        return self.rank >= threshold.rank


_SEVERITY_RANK = {Severity.info: 0, Severity.warning: 1, Severity.critical: 2}


class AlertRaised(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    alert_id: uuid.UUID
    dedup_key: str = Field(min_length=1, max_length=200)
    scheme_id: str
    kind: AlertKind
    severity: Severity
    subject: str = Field(description="One line a busy person can triage, e.g. `[RED] ...`.")
    message: str
    details: dict[str, DetailValue] = Field(default_factory=dict)
    raised_at: dt.datetime
    cause_event_id: uuid.UUID | None = Field(
        None, description="The scheme event that raised it; none for the daily sweep."
    )
    actor: str | None = Field(None, description="Who logged the cause event.")
    version: int = ALERT_VERSION

    @staticmethod
    def alert_id_for(dedup_key: str) -> uuid.UUID:
        return uuid.uuid5(ALERT_NAMESPACE, dedup_key)
