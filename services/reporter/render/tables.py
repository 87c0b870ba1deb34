"""Reports as tables of typed columns: what CSV, XLSX, HTML and the terminal share.

A column's kind says how each format writes it: money stays a Decimal (a number with a
currency format in XLSX), dates stay dates, RAG values are coloured where colour exists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

from services.reporter.formatting import day, money
from services.reporter.model import (
    TOTAL,
    BudgetBySource,
    ProgrammeReport,
    RagBreakdown,
    Report,
    SlippageReport,
    SourceFigures,
)

VARIANCE_RULE = (
    "Variance is forecast outturn minus budget. A scheme's variance is attributed to the "
    "funding source named by its latest budget change; without one it is shared between the "
    "scheme's sources in proportion to their budgets. Budget whose split between sources is "
    "unknown is shown as Unallocated."
)


class Kind(StrEnum):
    text = "text"
    money = "money"
    date = "date"
    integer = "integer"
    rag = "rag"
    status = "status"  # a scheme status: on_site in data, "On site" to read


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    kind: Kind = Kind.text

    @property
    def numeric(self) -> bool:
        return self.kind in (Kind.money, Kind.integer)


@dataclass(frozen=True)
class Table:
    name: str  # short: the sheet name in XLSX
    title: str
    columns: tuple[Column, ...]
    rows: tuple[dict[str, Any], ...]
    total: dict[str, Any] | None = None


def cell_text(value: Any, kind: Kind) -> str:
    """A value as a person reads it."""
    if value is None:
        return ""
    if kind is Kind.money and isinstance(value, Decimal):
        return money(value)
    if isinstance(value, dt.date):
        return day(value)
    if isinstance(value, Enum):
        value = value.value
    if kind is Kind.status:
        return str(value).replace("_", " ").capitalize()
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return str(value)


def report_title(report: Report) -> str:
    if isinstance(report, BudgetBySource):
        return "Budget by funding source"
    if isinstance(report, ProgrammeReport):
        return "Programme RAG report"
    if isinstance(report, SlippageReport):
        return "Slippage report"
    return "Capital programme highlight pack"


def report_subtitle(report: Report) -> str:
    """Which position the report shows and the date RAG was judged on."""
    parts = [report.scope.describe()]
    if not isinstance(report, BudgetBySource):
        parts.append(f"RAG judged on {day(report.judged_on)}")
    if report.scope.public:
        parts.append("public version: schemes of high public sensitivity are not shown")
    return "; ".join(parts)


def tables(report: Report) -> list[Table]:
    if isinstance(report, BudgetBySource):
        return [budget_table(report)]
    if isinstance(report, ProgrammeReport):
        return programme_tables(report)
    if isinstance(report, SlippageReport):
        return [slippage_table(report)]
    raise TypeError(f"no tables for {type(report).__name__}: the pack is HTML, PDF or JSON")


BUDGET_COLUMNS = (
    Column("funding_source", "Funding source"),
    Column("schemes", "Schemes", Kind.integer),
    Column("approved_budget", "Approved budget", Kind.money),
    Column("budget_changes", "Budget changes", Kind.money),
    Column("budget", "Budget", Kind.money),
    Column("forecast_outturn", "Forecast outturn", Kind.money),
    Column("variance", "Variance", Kind.money),
)


def source_row(figures: SourceFigures) -> dict[str, Any]:
    return {
        "funding_source": figures.funding_source,
        "schemes": figures.schemes,
        "approved_budget": figures.approved_budget,
        "budget_changes": figures.budget_changes,
        "budget": figures.budget,
        "forecast_outturn": figures.forecast_outturn,
        "variance": figures.variance,
    }


def budget_table(report: BudgetBySource) -> Table:
    return Table(
        name="Budget by source",
        title="Budget by funding source",
        columns=BUDGET_COLUMNS,
        rows=tuple(source_row(row) for row in report.rows),
        total=source_row(report.total),
    )


def _breakdown_table(name: str, group: str, rows: tuple[RagBreakdown, ...]) -> Table:
    return Table(
        name=name,
        title=f"Overall RAG by {group}",
        columns=(
            Column(group, group.capitalize(), Kind.status if group == "status" else Kind.text),
            Column("green", "Green", Kind.integer),
            Column("amber", "Amber", Kind.integer),
            Column("red", "Red", Kind.integer),
            Column("total", "Total", Kind.integer),
        ),
        rows=tuple(
            {
                group: row.group,
                "green": row.counts.green,
                "amber": row.counts.amber,
                "red": row.counts.red,
                "total": row.counts.total,
            }
            for row in rows
        ),
        total={
            group: TOTAL,
            "green": sum(row.counts.green for row in rows),
            "amber": sum(row.counts.amber for row in rows),
            "red": sum(row.counts.red for row in rows),
            "total": sum(row.counts.total for row in rows),
        },
    )


def programme_tables(report: ProgrammeReport) -> list[Table]:
    totals = Table(
        name="RAG totals",
        title="Schemes by RAG",
        columns=(
            Column("rag", "RAG"),
            Column("green", "Green", Kind.integer),
            Column("amber", "Amber", Kind.integer),
            Column("red", "Red", Kind.integer),
            Column("total", "Total", Kind.integer),
        ),
        rows=tuple(
            {
                "rag": which.capitalize(),
                "green": counts.green,
                "amber": counts.amber,
                "red": counts.red,
                "total": counts.total,
            }
            for which, counts in report.rag_totals.items()
        ),
    )
    concerns = Table(
        name="Red and amber",
        title="Red and amber schemes",
        columns=(
            Column("scheme_id", "Scheme"),
            Column("title", "Title"),
            Column("programme", "Programme"),
            Column("status", "Status", Kind.status),
            Column("programme_rag", "Programme RAG", Kind.rag),
            Column("budget_rag", "Budget RAG", Kind.rag),
            Column("overall_rag", "Overall RAG", Kind.rag),
            Column("reasons", "Reasons"),
        ),
        rows=tuple(
            {
                "scheme_id": c.scheme_id,
                "title": c.title,
                "programme": c.programme,
                "status": c.status.value,
                "programme_rag": c.programme_rag.value,
                "budget_rag": c.budget_rag.value,
                "overall_rag": c.overall_rag.value,
                "reasons": list(c.reasons),
            }
            for c in report.concerns
        ),
    )
    return [
        totals,
        _breakdown_table("By status", "status", report.by_status),
        _breakdown_table("By programme", "programme", report.by_programme),
        concerns,
    ]


SLIPPAGE_COLUMNS = (
    Column("scheme_id", "Scheme"),
    Column("title", "Title"),
    Column("status", "Status", Kind.status),
    Column("baseline_completion", "Baseline completion", Kind.date),
    Column("anticipated_completion", "Anticipated completion", Kind.date),
    Column("actual_completion", "Actual completion", Kind.date),
    Column("slippage_days", "Days slipped", Kind.integer),
    Column("overdue_days", "Days overdue", Kind.integer),
    Column("programme_rag", "Programme RAG", Kind.rag),
    Column("revisions", "Times revised", Kind.integer),
    Column("revised_by", "Revised by"),
    Column("last_revised_on", "Last revised", Kind.date),
    Column("last_reason", "Last reason"),
)


def slippage_table(report: SlippageReport) -> Table:
    rows = []
    for row in report.rows:
        last = row.revisions[-1] if row.revisions else None
        rows.append(
            {
                "scheme_id": row.scheme_id,
                "title": row.title,
                "status": row.status.value,
                "baseline_completion": row.baseline_completion,
                "anticipated_completion": row.anticipated_completion,
                "actual_completion": row.actual_completion,
                "slippage_days": row.slippage_days,
                "overdue_days": row.overdue_days,
                "programme_rag": row.programme_rag.value,
                "revisions": row.revision_count,
                "revised_by": list(row.revised_by),
                "last_revised_on": last.occurred_on if last else None,
                "last_reason": last.reason if last else None,
            }
        )
    return Table(
        name="Slippage",
        title="Slippage, worst first",
        columns=SLIPPAGE_COLUMNS,
        rows=tuple(rows),
    )
