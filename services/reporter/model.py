"""What each report holds. Money is `Decimal` pounds, dates are `datetime.date`.

Every report says which position it shows on the two time axes (`as_at`: events that
occurred on or before that date; `known_on`: events recorded on or before it; None for
everything) and, when RAG is involved, the date it was judged on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from events import Rag, SchemeStatus
from events.payloads import PublicSensitivity
from programme.position import Position

TOTAL = "Total"


class ReportKind(StrEnum):
    budget_by_source = "budget-by-source"
    programme = "programme"
    slippage = "slippage"
    pack = "pack"
    changes = "changes"


@dataclass(frozen=True)
class ReportScope:
    """Which position a report shows and for whom. `printed_on` is the day it was made:
    the position's dates when none is given. `committee` is who a pack is for (its
    cover)."""

    as_at: dt.date | None = None
    known_on: dt.date | None = None
    public: bool = False
    printed_on: dt.date | None = None
    committee: str | None = None
    since: dt.date | None = None
    """The last committee's date: a pack with it has a page of what was recorded since."""

    @classmethod
    def as_of(cls, day: dt.date, **scope: Any) -> ReportScope:
        """What a committee saw on `day`: as at that day, as known that day."""
        return cls(as_at=day, known_on=day, **scope)

    def position(self, judged_on: dt.date) -> Position:
        return Position(judged_on, as_at=self.as_at, known_on=self.known_on)

    @property
    def position_date(self) -> dt.date | None:
        """The date of the position shown: `as_at`, else the day the report was made."""
        return self.as_at or self.printed_on

    @property
    def known_date(self) -> dt.date | None:
        """The date the position is as known on: `known_on`, else the day it was made."""
        return self.known_on or self.printed_on

    def describe(self) -> str:
        """The position in a reader's words, as every position says it
        (`programme.position.Position.describe`): "Position at 31 Mar 2024, as known on
        29 Jul 2024"."""
        at, known = self.position_date, self.known_date
        if at is None or known is None:
            return "Position by everything recorded"
        return Position(at, as_at=at, known_on=known).describe()


# --- budget by source -------------------------------------------------------------------


@dataclass(frozen=True)
class SourceFigures:
    """One funding source's share of the programme (or the total row)."""

    funding_source: str
    schemes: int
    approved_budget: Decimal
    budget_changes: Decimal
    budget: Decimal
    forecast_outturn: Decimal

    @property
    def variance(self) -> Decimal:
        """Forecast outturn minus budget: positive is an overspend."""
        return self.forecast_outturn - self.budget


@dataclass(frozen=True)
class BudgetBySource:
    scope: ReportScope
    rows: tuple[SourceFigures, ...]
    total: SourceFigures


# --- programme --------------------------------------------------------------------------


@dataclass(frozen=True)
class RagCounts:
    green: int = 0
    amber: int = 0
    red: int = 0

    @property
    def total(self) -> int:
        return self.green + self.amber + self.red

    def count(self, rag: Rag) -> int:
        return getattr(self, rag.value)


@dataclass(frozen=True)
class RagBreakdown:
    """Overall RAG counts of the schemes in one group (a status or a programme)."""

    group: str
    counts: RagCounts


@dataclass(frozen=True)
class SchemeConcern:
    """A red or amber scheme and why it is so."""

    scheme_id: str
    title: str
    programme: str | None
    status: SchemeStatus
    programme_rag: Rag
    budget_rag: Rag
    overall_rag: Rag
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ProgrammeReport:
    scope: ReportScope
    judged_on: dt.date
    schemes: int
    rag_totals: dict[str, RagCounts]  # programme, budget, overall
    by_status: tuple[RagBreakdown, ...]
    by_programme: tuple[RagBreakdown, ...]
    concerns: tuple[SchemeConcern, ...]


# --- slippage ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CompletionRevision:
    """A `completion.revised` that moved the expected completion date."""

    occurred_on: dt.date
    recorded_on: dt.date
    actor: str | None
    previous: dt.date
    revised_to: dt.date
    reason: str

    @property
    def days_moved(self) -> int:
        return (self.revised_to - self.previous).days


@dataclass(frozen=True)
class SlippageRow:
    scheme_id: str
    title: str
    status: SchemeStatus
    baseline_completion: dt.date | None
    anticipated_completion: dt.date | None
    actual_completion: dt.date | None
    slippage_days: int | None
    overdue_days: int
    programme_rag: Rag
    revisions: tuple[CompletionRevision, ...] = ()

    @property
    def revision_count(self) -> int:
        return len(self.revisions)

    @property
    def revised_by(self) -> tuple[str, ...]:
        """Who moved the date, each once, in the order they first did."""
        return tuple(dict.fromkeys(r.actor or "unknown" for r in self.revisions))

    @property
    def days_late(self) -> int | None:
        """Slippage, counting an overdue scheme as finishing no earlier than the day it
        is judged on: what "worst first" sorts by."""
        if self.slippage_days is None:
            return None
        return self.slippage_days + self.overdue_days


@dataclass(frozen=True)
class SlippageReport:
    scope: ReportScope
    judged_on: dt.date
    rows: tuple[SlippageRow, ...]


# --- committee highlight pack -----------------------------------------------------------


@dataclass(frozen=True)
class FundingApproval:
    source: str
    amount: Decimal
    approved_on: dt.date | None


@dataclass(frozen=True)
class BudgetChange:
    occurred_on: dt.date
    funding_source: str
    amount: Decimal
    reason: str


@dataclass(frozen=True)
class OverdueSnag:
    snag_id: str
    description: str
    location: str | None
    assignee: str | None
    due_on: dt.date


@dataclass(frozen=True)
class SchemeCard:
    """One scheme as a scrutiny pack prints it."""

    scheme_id: str
    title: str
    description: str | None
    programme: str | None
    status: SchemeStatus
    status_reason: str | None
    original_budget: Decimal
    budget: Decimal
    forecast_outturn: Decimal
    forecast_reason: str | None
    funding: tuple[FundingApproval, ...]
    budget_changes: tuple[BudgetChange, ...]
    baseline_start: dt.date | None
    baseline_completion: dt.date | None
    actual_start: dt.date | None
    anticipated_completion: dt.date | None
    actual_completion: dt.date | None
    contractor: str | None
    contract_length: str | None
    project_manager: str | None
    progress_note: str | None
    progress_on: dt.date | None
    percent_complete: int | None
    open_snags: int
    overdue_snags: tuple[OverdueSnag, ...]
    slippage_days: int | None
    overdue: bool
    programme_rag: Rag
    budget_rag: Rag
    public_sensitivity: PublicSensitivity
    overall_rag: Rag
    overrides: dict[str, str] = field(default_factory=dict)
    completion_revisions: int = 0
    expected_completion: dt.date | None = None
    """The anticipated completion, else the baseline (`expected_is_baseline`)."""
    expected_is_baseline: bool = False
    days_overdue: int = 0
    reasons: dict[str, str] = field(default_factory=dict)
    """Why each RAG box is its colour, in a few words (the snapshot's)."""


@dataclass(frozen=True)
class CommitteePack:
    scope: ReportScope
    judged_on: dt.date
    cards: tuple[SchemeCard, ...]
    budget_by_source: BudgetBySource
    rag_totals: dict[str, RagCounts]
    changes: ChangesReport | None = None


# --- changes between two record dates -------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """A change to one scheme recorded in the period: what it was, when it happened,
    why, and who said so (the actor, and who recorded it on their behalf)."""

    what: str
    occurred_on: dt.date | None
    reason: str | None = None
    by: str | None = None


@dataclass(frozen=True)
class CompletionMove:
    """The expected completion (anticipated, else baseline) known at the start of the
    period and at its end, and the revisions recorded in between."""

    before: dt.date | None
    after: dt.date | None
    revisions: tuple[Recorded, ...] = ()

    @property
    def days(self) -> int | None:
        if self.before is None or self.after is None:
            return None
        return (self.after - self.before).days


@dataclass(frozen=True)
class RagChange:
    """One RAG box judged differently: before on the first date, after on the second,
    each with the reason the rules (or an override) gave."""

    box: str  # programme, budget, overall
    before: Rag
    after: Rag
    before_reason: str
    after_reason: str


@dataclass(frozen=True)
class AmountChange:
    """A sum of money at the start and at the end of the period (a funding source's
    budget, or a scheme's budget or forecast outturn)."""

    name: str
    before: Decimal
    after: Decimal

    @property
    def change(self) -> Decimal:
        return self.after - self.before


@dataclass(frozen=True)
class SnagChange:
    snag_id: str
    description: str
    on: dt.date | None
    due_on: dt.date | None = None
    by: str | None = None


@dataclass(frozen=True)
class OverrideChange:
    box: str
    before: Rag | None
    after: Rag | None  # None: the override was lifted
    reason: str | None
    by: str | None


@dataclass(frozen=True)
class SchemeChanges:
    """Everything that changed for one scheme between the two positions."""

    scheme_id: str
    title: str
    added: bool
    status_before: SchemeStatus | None
    status_after: SchemeStatus
    milestones: tuple[Recorded, ...]
    completion: CompletionMove | None
    expected_completion: dt.date | None
    rag: tuple[RagChange, ...]
    overall_rag: Rag
    budget: AmountChange
    forecast: AmountChange
    budget_reasons: tuple[Recorded, ...]
    forecast_reason: Recorded | None
    snags_raised: tuple[SnagChange, ...]
    snags_cleared: tuple[SnagChange, ...]
    overrides: tuple[OverrideChange, ...]
    amendments: tuple[Recorded, ...]

    @property
    def changed(self) -> bool:
        return bool(
            self.added
            or self.milestones
            or self.completion
            or self.rag
            or self.budget.change
            or self.forecast.change
            or self.snags_raised
            or self.snags_cleared
            or self.overrides
            or self.amendments
        )


@dataclass(frozen=True)
class ChangesReport:
    """What was recorded after the end of `since` up to the end of `until`: the
    difference between the programme as known on the two dates, scheme by scheme, each
    judged on its own date."""

    since: dt.date
    until: dt.date
    public: bool
    schemes: tuple[SchemeChanges, ...]
    budget_by_source: tuple[AmountChange, ...]
    budget_total: AmountChange
    forecast_total: AmountChange


Report = BudgetBySource | ProgrammeReport | SlippageReport | CommitteePack | ChangesReport


def report_kind(report: Report) -> ReportKind:
    if isinstance(report, BudgetBySource):
        return ReportKind.budget_by_source
    if isinstance(report, ProgrammeReport):
        return ReportKind.programme
    if isinstance(report, SlippageReport):
        return ReportKind.slippage
    if isinstance(report, CommitteePack):
        return ReportKind.pack
    if isinstance(report, ChangesReport):
        return ReportKind.changes
    raise TypeError(f"not a report: {report!r}")
