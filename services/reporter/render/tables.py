"""Reports as tables of typed columns: what CSV, XLSX, HTML and the terminal share.

A column's kind says how each format writes it: money stays a Decimal (a number with a
currency format in XLSX), dates stay dates, RAG values are coloured where colour exists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

from services.reporter.formatting import day, money, signed_money
from services.reporter.model import (
    TOTAL,
    AmountChange,
    BudgetBySource,
    ChangesReport,
    ProgrammeReport,
    RagBreakdown,
    Report,
    SchemeChanges,
    SlippageReport,
    SnagChange,
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
    change = "change"  # a difference: +£8,500.00, -£2,000.00, +62 (days)


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    kind: Kind = Kind.text

    @property
    def numeric(self) -> bool:
        return self.kind in (Kind.money, Kind.integer, Kind.change)


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
    if kind is Kind.change and isinstance(value, Decimal):
        return signed_money(value) if value else "£0.00"
    if kind is Kind.change and isinstance(value, int):
        return f"{value:+d}"
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
    if isinstance(report, ChangesReport):
        return "Changes to the capital programme"
    return "Capital programme highlight pack"


def report_subtitle(report: Report) -> str:
    """Which position the report shows and the date RAG was judged on."""
    if isinstance(report, ChangesReport):
        return changes_period(report) + (
            "; public version: schemes of high public sensitivity are not shown"
            if report.public
            else ""
        )
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
    if isinstance(report, ChangesReport):
        return [table for table in changes_tables(report) if table.rows]
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


# --- changes between two record dates -------------------------------------------------------


def changes_period(report: ChangesReport) -> str:
    """Which records the changes report compares, each judged on its own date."""
    return (
        f"Recorded after {day(report.since)} up to the end of {day(report.until)}: the "
        f"programme as known on {day(report.until)} against {day(report.since)}, RAG judged "
        "on each date"
    )


def _who_and_why(reason: str | None, by: str | None) -> str:
    return f"{reason} ({by})" if reason and by else reason or by or ""


_SCHEME = Column("scheme_id", "Scheme")
_TITLE = Column("title", "Title")
_BY = Column("by", "By")


def changes_tables(report: ChangesReport) -> list[Table]:
    """Every section of the changes report, in the order a committee reads them; a section
    with nothing in it has no rows."""
    was, now = f"Known on {day(report.since)}", f"Known on {day(report.until)}"
    money_at_both = (
        Column("before", was, Kind.money),
        Column("after", now, Kind.money),
        Column("change", "Change", Kind.change),
    )
    schemes = report.schemes
    existing = [s for s in schemes if not s.added]
    return [
        Table(
            name="Added",
            title="Schemes added",
            columns=(
                _SCHEME,
                _TITLE,
                Column("registered_on", "Registered", Kind.date),
                Column("budget", "Budget", Kind.money),
                Column("status", "Status", Kind.status),
                Column("expected_completion", "Expected completion", Kind.date),
                Column("overall_rag", "RAG", Kind.rag),
            ),
            rows=tuple(
                {
                    "scheme_id": s.scheme_id,
                    "title": s.title,
                    "registered_on": s.milestones[0].occurred_on,
                    "budget": s.budget.after,
                    "status": s.status_after.value,
                    "expected_completion": s.expected_completion,
                    "overall_rag": s.overall_rag.value,
                }
                for s in schemes
                if s.added
            ),
        ),
        Table(
            name="Progress",
            title="Started, completed, handed over, on hold and cancelled",
            columns=(
                _SCHEME,
                _TITLE,
                Column("what", "Change"),
                Column("on", "On", Kind.date),
                Column("status", "Status now", Kind.status),
                Column("reason", "Reason"),
                _BY,
            ),
            rows=tuple(
                {
                    "scheme_id": s.scheme_id,
                    "title": s.title,
                    "what": step.what,
                    "on": step.occurred_on,
                    "status": s.status_after.value,
                    "reason": step.reason,
                    "by": step.by,
                }
                for s in existing
                for step in s.milestones
            ),
        ),
        Table(
            name="Completion",
            title="Completion dates moved",
            columns=(
                _SCHEME,
                _TITLE,
                Column("from", "From", Kind.date),
                Column("to", "To", Kind.date),
                Column("days", "Days", Kind.change),
                Column("reason", "Reason (who)"),
            ),
            rows=tuple(
                {
                    "scheme_id": s.scheme_id,
                    "title": s.title,
                    "from": s.completion.before,
                    "to": s.completion.after,
                    "days": s.completion.days,
                    "reason": [_who_and_why(r.reason, r.by) for r in s.completion.revisions],
                }
                for s in schemes
                if s.completion is not None
            ),
        ),
        Table(
            name="RAG",
            title="RAG changes",
            columns=(
                _SCHEME,
                _TITLE,
                Column("box", "RAG"),
                Column("before", "Was", Kind.rag),
                Column("after", "Now", Kind.rag),
                Column("why", "Why"),
                Column("was_because", "Before"),
            ),
            rows=tuple(
                {
                    "scheme_id": s.scheme_id,
                    "title": s.title,
                    "box": change.box.capitalize(),
                    "before": change.before.value,
                    "after": change.after.value,
                    "why": change.after_reason,
                    "was_because": change.before_reason,
                }
                for s in schemes
                for change in s.rag
            ),
        ),
        Table(
            name="Funding",
            title="Budget by funding source",
            columns=(Column("name", "Funding source"), *money_at_both),
            rows=tuple(_amount_row(c) for c in report.budget_by_source),
            total=_amount_row(report.budget_total) if report.budget_by_source else None,
        ),
        Table(
            name="Totals",
            title="Programme totals",
            columns=(Column("name", ""), *money_at_both),
            rows=(
                _amount_row(replace(report.budget_total, name="Budget")),
                _amount_row(replace(report.forecast_total, name="Forecast outturn")),
            ),
        ),
        Table(
            name="Money",
            title="Budgets and forecasts by scheme",
            columns=(
                _SCHEME,
                _TITLE,
                Column("budget_before", "Budget before", Kind.money),
                Column("budget_after", "Budget now", Kind.money),
                Column("budget_change", "Budget change", Kind.change),
                Column("forecast_before", "Forecast before", Kind.money),
                Column("forecast_after", "Forecast now", Kind.money),
                Column("forecast_change", "Forecast change", Kind.change),
                Column("reason", "Reason (who)"),
            ),
            rows=tuple(
                {
                    "scheme_id": s.scheme_id,
                    "title": s.title,
                    "budget_before": s.budget.before,
                    "budget_after": s.budget.after,
                    "budget_change": s.budget.change,
                    "forecast_before": s.forecast.before,
                    "forecast_after": s.forecast.after,
                    "forecast_change": s.forecast.change,
                    "reason": [
                        _who_and_why(f"{r.what}: {r.reason}", r.by)
                        for r in (*s.budget_reasons, *filter(None, [s.forecast_reason]))
                    ],
                }
                for s in existing
                if s.budget.change or s.forecast.change
            ),
        ),
        _snags_table("Snags raised", "Raised", [(s, s.snags_raised) for s in schemes]),
        _snags_table("Snags cleared", "Cleared", [(s, s.snags_cleared) for s in schemes]),
        Table(
            name="Overrides",
            title="RAG overrides set or lifted",
            columns=(
                _SCHEME,
                Column("box", "RAG"),
                Column("before", "Was overridden to"),
                Column("after", "Now overridden to"),
                Column("reason", "Reason"),
                _BY,
            ),
            rows=tuple(
                {
                    "scheme_id": s.scheme_id,
                    "box": o.box.capitalize(),
                    "before": o.before.value if o.before else "not overridden",
                    "after": o.after.value if o.after else "override lifted",
                    "reason": o.reason,
                    "by": o.by,
                }
                for s in schemes
                for o in s.overrides
            ),
        ),
        Table(
            name="Amendments",
            title="Records amended",
            columns=(
                _SCHEME,
                Column("what", "Change"),
                Column("on", "On", Kind.date),
                Column("reason", "Reason"),
                _BY,
            ),
            rows=tuple(
                {
                    "scheme_id": s.scheme_id,
                    "what": a.what,
                    "on": a.occurred_on,
                    "reason": a.reason,
                    "by": a.by,
                }
                for s in schemes
                for a in s.amendments
            ),
        ),
    ]


def _amount_row(change: AmountChange) -> dict[str, Any]:
    return {
        "name": change.name,
        "before": change.before,
        "after": change.after,
        "change": change.change,
    }


def _snags_table(
    title: str, when: str, snags: list[tuple[SchemeChanges, tuple[SnagChange, ...]]]
) -> Table:
    """Snags raised or cleared: each with the day it was (`when`), and when it is due."""
    return Table(
        name=title,
        title=title,
        columns=(
            _SCHEME,
            Column("snag_id", "Snag"),
            Column("description", "Description"),
            Column("on", when, Kind.date),
            Column("due_on", "Due", Kind.date),
            _BY,
        ),
        rows=tuple(
            {
                "scheme_id": scheme.scheme_id,
                "snag_id": snag.snag_id,
                "description": snag.description,
                "on": snag.on,
                "due_on": snag.due_on,
                "by": snag.by,
            }
            for scheme, of_scheme in snags
            for snag in of_scheme
        ),
    )


CHANGE_LINE_COLUMNS = (
    Column("scheme_id", "Scheme"),
    Column("title", "Title"),
    Column("change", "Change"),
    Column("before", "Before"),
    Column("after", "After"),
    Column("difference", "Difference"),
    Column("occurred_on", "On", Kind.date),
    Column("reason", "Reason"),
    Column("by", "By"),
)


def change_lines(report: ChangesReport) -> Table:
    """Every change as one line (what a CSV file holds): a scheme's changes first, then
    the budget of each funding source and of the programme."""
    lines: list[dict[str, Any]] = []

    def line(scheme: SchemeChanges | None, change: str, **values: Any) -> None:
        lines.append(
            {
                "scheme_id": scheme.scheme_id if scheme else None,
                "title": scheme.title if scheme else None,
                "change": change,
                **values,
            }
        )

    for s in report.schemes:
        for step in s.milestones:
            line(
                s,
                step.what.lower(),
                before=s.status_before,
                after=s.status_after,
                occurred_on=step.occurred_on,
                reason=step.reason,
                by=step.by,
            )
        if s.completion is not None:
            revisions = s.completion.revisions
            line(
                s,
                "completion moved",
                before=s.completion.before,
                after=s.completion.after,
                difference=s.completion.days,
                reason=[r.reason for r in revisions],
                by=[r.by for r in revisions if r.by],
            )
        for rag in s.rag:
            line(s, f"{rag.box} RAG", before=rag.before, after=rag.after, reason=rag.after_reason)
        for money_change, reasons in (
            (s.budget, s.budget_reasons),
            (s.forecast, tuple(filter(None, [s.forecast_reason]))),
        ):
            if money_change.change and not s.added:
                line(
                    s,
                    money_change.name,
                    before=money_change.before,
                    after=money_change.after,
                    difference=money_change.change,
                    reason=[r.reason for r in reasons],
                    by=[r.by for r in reasons if r.by],
                )
        for snag in s.snags_raised:
            line(
                s,
                "snag raised",
                after=snag.snag_id,
                occurred_on=snag.on,
                reason=snag.description,
                by=snag.by,
            )
        for snag in s.snags_cleared:
            line(
                s,
                "snag cleared",
                before=snag.snag_id,
                occurred_on=snag.on,
                reason=snag.description,
                by=snag.by,
            )
        for override in s.overrides:
            line(
                s,
                f"{override.box} RAG override",
                before=override.before,
                after=override.after or "lifted",
                reason=override.reason,
                by=override.by,
            )
        for amendment in s.amendments:
            line(
                s,
                "amended",
                after=amendment.what,
                occurred_on=amendment.occurred_on,
                reason=amendment.reason,
                by=amendment.by,
            )
    for source in report.budget_by_source:
        line(
            None,
            f"budget from {source.name}",
            before=source.before,
            after=source.after,
            difference=source.change,
        )
    for total in (report.budget_total, report.forecast_total):
        name = "programme budget" if total is report.budget_total else "programme forecast outturn"
        line(None, name, before=total.before, after=total.after, difference=total.change)
    return Table(name="Changes", title="Changes", columns=CHANGE_LINE_COLUMNS, rows=tuple(lines))
