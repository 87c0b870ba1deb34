"""Reports as self-contained HTML pages (Jinja2 templates in this package, CSS and SVG
charts inline): they open offline, and the same page prints to PDF."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from events import Rag
from events.payloads import PublicSensitivity
from services.reporter.changes import summary
from services.reporter.formatting import day, money, month, signed_money
from services.reporter.model import (
    BudgetBySource,
    ChangesReport,
    CommitteePack,
    ProgrammeReport,
    Report,
    SlippageReport,
    report_kind,
)
from services.reporter.render import charts
from services.reporter.render.palette import RAG_FILL, RAG_INK, SENSITIVITY_RAG
from services.reporter.render.tables import (
    VARIANCE_RULE,
    Kind,
    Table,
    budget_table,
    cell_text,
    report_subtitle,
    report_title,
    tables,
)


@dataclass(frozen=True)
class Chart:
    caption: str
    svg: str


@dataclass(frozen=True)
class ChangesPage:
    """The changes report as a page (standalone, or the pack's "Changes since the last
    committee"): which records it compares, in a sentence, and its non-empty tables."""

    period: str
    summary: str
    sections: list[Table]


def changes_page(report: ChangesReport) -> ChangesPage:
    return ChangesPage(report_subtitle(report), summary(report), tables(report))


def to_html(report: Report) -> str:
    if isinstance(report, CommitteePack):
        return _pack_html(report)
    if isinstance(report, ChangesReport):
        page = changes_page(report)
        return (
            _environment()
            .get_template("changes.html.j2")
            .render(
                title=report_title(report),
                position=page.period,
                summary=page.summary,
                sections=page.sections,
            )
        )
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            kind=report_kind(report).value,
            title=report_title(report),
            position=report_subtitle(report),
            tables=tables(report),
            charts=_charts(report),
            notes=[VARIANCE_RULE] if isinstance(report, BudgetBySource) else [],
        )
    )


def _charts(report: Report) -> list[Chart]:
    if isinstance(report, BudgetBySource):
        return [Chart("Budget and forecast outturn", charts.budget_by_source_chart(report.rows))]
    if isinstance(report, ProgrammeReport):
        return [Chart("RAG distribution", charts.rag_distribution_chart(report.rag_totals))]
    if isinstance(report, SlippageReport | ChangesReport):
        return []
    raise TypeError(f"no charts for {report!r}")


def _pack_html(pack: CommitteePack) -> str:
    return (
        _environment()
        .get_template("pack.html.j2")
        .render(
            title=report_title(pack),
            position=report_subtitle(pack),
            pack=pack,
            funding=pack.budget_by_source,
            variance_rule=VARIANCE_RULE,
            budget_table=budget_table(pack.budget_by_source),
            changes=changes_page(pack.changes) if pack.changes else None,
            charts={
                "budget": charts.budget_by_source_chart(pack.budget_by_source.rows),
                "rag": charts.rag_distribution_chart(pack.rag_totals),
                "completion": charts.completion_charts(pack.cards, pack.judged_on),
            },
        )
    )


def rag_style(value: str) -> str:
    """Inline fill and ink, so the colour survives copying the HTML and printing."""
    rag = Rag(value)
    return f"background-color: {RAG_FILL[rag]}; color: {RAG_INK[rag]};"


def _sensitivity_rag(value: PublicSensitivity) -> Rag:
    return SENSITIVITY_RAG[value]


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("services.reporter.render", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    filters: dict[str, Any] = {
        "money": money,
        "signed_money": lambda value: signed_money(value, pence=False),
        "day": day,
        "long_day": lambda value: value.strftime("%-d %B %Y") if value else "",
        "month": month,
        "cell_text": cell_text,
        "rag_style": rag_style,
        "sensitivity_rag": _sensitivity_rag,
        "status": lambda value: cell_text(value, Kind.status),
    }
    environment.filters.update(filters)
    return environment
