"""Payload models, one per event type.

Amounts are `Decimal` pounds: the codec parses JSON numbers straight to Decimal, so no
float ever holds money.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from events.limits import (
    TEXT_MAX,
    Line,
    NonEmptyLine,
    NonEmptyText,
    SchemeDate,
    Text,
    plausible_date,
    unsafe_character,
)

Money = Annotated[Decimal, Field(max_digits=15, decimal_places=2)]
NonNegativeMoney = Annotated[Decimal, Field(ge=0, max_digits=15, decimal_places=2)]


class Rag(StrEnum):
    green = "green"
    amber = "amber"
    red = "red"


class PublicSensitivity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _within_limits(cls, value: object, info: ValidationInfo) -> object:
        """A floor under every field, including ones added later without the narrower
        types above: no text longer than TEXT_MAX or with control characters, no date a
        scheme cannot have. What was stored before these limits is read as it is."""
        if info.context and info.context.get("stored"):
            return value
        if isinstance(value, str):
            if len(value) > TEXT_MAX:
                raise ValueError(f"longer than {TEXT_MAX} characters")
            problem = unsafe_character(value, multiline=True)
            if problem:
                raise ValueError(problem)
        elif isinstance(value, dt.date):
            plausible_date(value if not isinstance(value, dt.datetime) else value.date())
        return value


class FundingLine(Payload):
    source: NonEmptyLine
    amount: NonNegativeMoney
    approved_on: SchemeDate | None = None


class SchemeRegistered(Payload):
    title: NonEmptyLine
    budget: NonNegativeMoney
    funding: list[FundingLine] = Field(default_factory=list)
    baseline_start: SchemeDate | None = None
    baseline_completion: SchemeDate | None = None
    contractor: Line | None = None
    contract_length: Line | None = None
    project_manager: Line | None = None
    public_sensitivity: PublicSensitivity = PublicSensitivity.low
    description: Text | None = None
    programme: Line | None = None


class Empty(Payload):
    pass


class PhaseCompleted(Payload):
    phase: NonEmptyLine


class SnaggingRaised(Payload):
    snag_id: NonEmptyLine
    description: NonEmptyText


class SnaggingCleared(Payload):
    snag_id: NonEmptyLine


class BudgetChanged(Payload):
    funding_source: NonEmptyLine
    amount: Money
    reason: NonEmptyText


class ForecastRevised(Payload):
    forecast_outturn: NonNegativeMoney
    reason: Text | None = None


class CompletionRevised(Payload):
    anticipated_completion: SchemeDate
    reason: NonEmptyText


class SchemeRebaselined(Payload):
    baseline_completion: SchemeDate
    reason: NonEmptyText


class ProgressReported(Payload):
    note: NonEmptyText
    percent_complete: Annotated[int, Field(ge=0, le=100)] | None = None


class WithReason(Payload):
    reason: NonEmptyText


class RagOverridden(Payload):
    which: Literal["programme", "budget", "overall"]
    value: Rag | None = Field(
        description="The RAG to show instead of the computed one; null lifts the override."
    )
    reason: NonEmptyText
