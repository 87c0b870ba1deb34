"""What the tracker tells the world: a scheme's state after each event it applied."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

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
    """The expected completion is the baseline: no anticipated date, or one equal to it (a
    register states the date of a scheme that has not moved)."""
    days_overdue: int = 0
    """Days past the expected completion on `evaluated_on`, while not complete."""
    reasons: dict[str, str] = {}
    """Why each RAG box (programme, budget, overall) is the colour it is, in a few words:
    "overdue by 150 days", "slipped 29 days", "forecast 5.0% over budget",
    "overridden: occupation date at risk"."""

    @model_validator(mode="before")
    @classmethod
    def _derived_values_of_an_older_message(cls, data: Any) -> Any:
        """A state change stored before snapshots carried their derived dates (the tracker
        re-sends it when the same event is delivered again) gets them from its own fields,
        so every reader finds them: the expected completion and how overdue it was then.
        Snapshots made since (`programme.rag.snapshot`) carry them and are left alone."""
        if not isinstance(data, dict) or "expected_completion" in data:
            return data
        anticipated = _day(data.get("anticipated_completion"))
        baseline = _day(data.get("baseline_completion"))
        evaluated_on, expected = _day(data.get("evaluated_on")), anticipated or baseline
        late = 0
        if data.get("overdue") is True and expected is not None and evaluated_on is not None:
            late = (evaluated_on - expected).days
        return {
            **data,
            "expected_completion": expected,
            "expected_is_baseline": baseline is not None and anticipated in (None, baseline),
            "days_overdue": late,
        }

    def concerns(self) -> list[str]:
        """The reasons behind every box that is not green, each said once: why the scheme
        is red or amber. Empty for a green scheme."""
        said: list[str] = []
        for box in ("programme", "budget", "overall"):
            reason = self.reasons.get(box)
            if getattr(self, f"{box}_rag") is not Rag.green and reason and reason not in said:
                said.append(reason)
        return said


def _day(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


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
