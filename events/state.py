"""What the tracker tells the world: a scheme's state after each event it applied."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from events.envelope import Envelope
from events.payloads import PublicSensitivity, Rag

STATE_CHANGE_NAMESPACE = uuid.UUID("6f1d3c52-9d3e-4f0c-a7f4-2b4d51c0a9e1")


class SchemeStatus(StrEnum):
    registered = "registered"
    on_site = "on_site"
    on_hold = "on_hold"
    complete = "complete"
    handed_over = "handed_over"
    cancelled = "cancelled"


class SchemeSnapshot(BaseModel):
    """A scheme's state and RAG as evaluated on `evaluated_on`."""

    model_config = ConfigDict(frozen=True)

    scheme_id: str
    title: str
    status: SchemeStatus
    evaluated_on: dt.date
    baseline_completion: dt.date | None
    anticipated_completion: dt.date | None
    actual_completion: dt.date | None
    slippage_days: int | None
    overdue: bool
    programme_rag: Rag
    budget_rag: Rag
    overall_rag: Rag
    overrides: dict[str, str] = {}
    budget: Decimal
    forecast_outturn: Decimal
    forecast_reason: str | None = None
    open_snags: int
    overdue_snags: int = 0
    public_sensitivity: PublicSensitivity = PublicSensitivity.low
    project_manager: str | None = None
    # Derived once, by the RAG rules, and read everywhere (boards, reports, alerts, API).
    expected_completion: dt.date | None = None
    """When the scheme is expected to complete: the anticipated date, else the baseline."""
    expected_is_baseline: bool = False
    """No anticipated date has been revised yet: the expected completion is the baseline."""
    days_overdue: int = 0
    """Days past the expected completion on `evaluated_on`, while not complete."""
    reasons: dict[str, str] = {}
    """Why each RAG box (programme, budget, overall) is the colour it is, in a few words:
    "overdue by 150 days", "slipped 29 days", "forecast 5.0% over budget",
    "overridden: occupation date at risk"."""

    def concerns(self) -> list[str]:
        """The reasons behind every box that is not green, each said once: why the scheme
        is red or amber. Empty for a green scheme."""
        said: list[str] = []
        for box in ("programme", "budget", "overall"):
            reason = self.reasons.get(box)
            if getattr(self, f"{box}_rag") is not Rag.green and reason and reason not in said:
                said.append(reason)
        return said


class SchemeStateChanged(BaseModel):
    """Emitted once per applied event; `message_id` is derived from the cause, so a
    re-emission after a crash carries the same id and consumers can de-duplicate."""

    model_config = ConfigDict(frozen=True)

    message_id: uuid.UUID
    scheme_id: str
    cause: Envelope
    previous: SchemeSnapshot | None
    """The scheme before the event, judged as at the event's own date (`cause.occurred_on`,
    never after the day it was applied), like `current`: the two differ only by the event."""
    current: SchemeSnapshot
    """The scheme after the event, judged as at the event's own date: an event published
    long after it happened carries the RAG it had then, not the one the clock gives it now."""

    @staticmethod
    def message_id_for(cause_event_id: uuid.UUID) -> uuid.UUID:
        return uuid.uuid5(STATE_CHANGE_NAMESPACE, str(cause_event_id))
