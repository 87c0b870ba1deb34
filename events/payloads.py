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
PositiveMoney = Annotated[Decimal, Field(gt=0, max_digits=15, decimal_places=2)]


class Rag(StrEnum):
    green = "green"
    amber = "amber"
    red = "red"


class PublicSensitivity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class SnagPriority(StrEnum):
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
    assignee: NonEmptyText | None = Field(None, description="Who is to put it right.")
    location: NonEmptyText | None = Field(None, description="Where on site, e.g. Block B, WC 2.")
    priority: SnagPriority | None = None
    due_on: dt.date | None = Field(None, description="When it is to be put right by.")


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


class SchemeAmended(Payload):
    """A correction or change to a scheme's record after registration. Only the fields
    given change. `funding_source` names a source of the scheme's funding: `approved_on`
    records when it was approved, `renamed_to` gives it the deployment's new name."""

    title: NonEmptyText | None = None
    description: NonEmptyText | None = None
    contractor: NonEmptyText | None = None
    contract_length: NonEmptyText | None = None
    project_manager: NonEmptyText | None = None
    programme: NonEmptyText | None = None
    public_sensitivity: PublicSensitivity | None = None
    funding_source: NonEmptyText | None = Field(
        None, description="The funding source `approved_on` or `renamed_to` is about."
    )
    approved_on: dt.date | None = None
    renamed_to: NonEmptyText | None = None
    reason: NonEmptyText

    # What the JSON Schema cannot say (at least one field; funding_source with approved_on
    # or renamed_to) the fold refuses, so the contract and the codec accept the same events.

    def changes(self) -> dict[str, object]:
        """The fields this amendment sets (a funding source's as `approved_on` and
        `renamed_to`)."""
        return {
            name: value for name in AMENDABLE_FIELDS if (value := getattr(self, name)) is not None
        }


AMENDABLE_FIELDS = (
    "title",
    "description",
    "contractor",
    "contract_length",
    "project_manager",
    "programme",
    "public_sensitivity",
    "approved_on",
    "renamed_to",
)


class BudgetTransferred(Payload):
    """Money moved between a scheme's funding sources: its total budget is unchanged."""

    from_source: NonEmptyText
    to_source: NonEmptyText
    amount: PositiveMoney
    reason: NonEmptyText
