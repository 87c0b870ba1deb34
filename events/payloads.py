"""Payload models, one per event type.

Amounts are `Decimal` pounds: the codec parses JSON numbers straight to Decimal, so no
float ever holds money.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
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


class FundingLine(Payload):
    source: NonEmptyText
    amount: NonNegativeMoney
    approved_on: dt.date | None = None


class SchemeRegistered(Payload):
    title: NonEmptyText
    budget: NonNegativeMoney
    funding: list[FundingLine] = Field(default_factory=list)
    baseline_start: dt.date | None = None
    baseline_completion: dt.date | None = None
    contractor: str | None = None
    contract_length: str | None = None
    project_manager: str | None = None
    public_sensitivity: PublicSensitivity = PublicSensitivity.low
    description: str | None = None
    programme: str | None = None


class Empty(Payload):
    pass


class PhaseCompleted(Payload):
    phase: NonEmptyText


class SnaggingRaised(Payload):
    snag_id: NonEmptyText
    description: NonEmptyText
    assignee: NonEmptyText | None = Field(None, description="Who is to put it right.")
    location: NonEmptyText | None = Field(None, description="Where on site, e.g. Block B, WC 2.")
    priority: SnagPriority | None = None
    due_on: dt.date | None = Field(None, description="When it is to be put right by.")


class SnaggingCleared(Payload):
    snag_id: NonEmptyText


class BudgetChanged(Payload):
    funding_source: NonEmptyText
    amount: Money
    reason: NonEmptyText


class ForecastRevised(Payload):
    forecast_outturn: NonNegativeMoney
    reason: str | None = None


class CompletionRevised(Payload):
    anticipated_completion: dt.date
    reason: NonEmptyText


class SchemeRebaselined(Payload):
    baseline_completion: dt.date
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
