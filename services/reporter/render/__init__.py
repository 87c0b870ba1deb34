"""One report, many formats: `render(report, fmt)` gives text or bytes to print or save."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from services.reporter.model import (
    BudgetBySource,
    ChangesReport,
    Report,
    ReportKind,
    report_kind,
)
from services.reporter.render.delimited import to_csv
from services.reporter.render.document import document, dumps
from services.reporter.render.html import to_html
from services.reporter.render.pdf import PdfUnavailable, html_to_pdf
from services.reporter.render.tables import (
    VARIANCE_RULE,
    change_lines,
    report_subtitle,
    report_title,
    tables,
)
from services.reporter.render.workbook import to_xlsx


class Format(StrEnum):
    table = "table"
    csv = "csv"
    xlsx = "xlsx"
    json = "json"
    html = "html"
    pdf = "pdf"

    @property
    def binary(self) -> bool:
        return self in (Format.xlsx, Format.pdf)


FORMATS: dict[ReportKind, tuple[Format, ...]] = {
    ReportKind.budget_by_source: tuple(Format),
    # Several tables: a spreadsheet holds them as sheets, a CSV file could hold only one.
    ReportKind.programme: (Format.table, Format.xlsx, Format.json, Format.html, Format.pdf),
    ReportKind.slippage: tuple(Format),
    ReportKind.pack: (Format.html, Format.pdf, Format.json),
    # One line per change in CSV; sections of tables everywhere else.
    ReportKind.changes: (Format.table, Format.json, Format.csv, Format.html, Format.pdf),
}

__all__ = [
    "FORMATS",
    "Format",
    "PdfUnavailable",
    "render",
    "report_subtitle",
    "report_title",
    "tables",
]


def render(report: Report, fmt: Format) -> str | bytes:
    """The report in `fmt`: str for text formats, bytes for XLSX and PDF. The terminal
    table is drawn by the command line from `tables(report)`."""
    kind = report_kind(report)
    if fmt not in FORMATS[kind] or fmt is Format.table:
        raise ValueError(f"the {kind.value} report cannot be rendered as {fmt.value}")
    if fmt is Format.json:
        return dumps(document(report))
    if fmt is Format.csv:
        if isinstance(report, ChangesReport):
            return to_csv(change_lines(report))
        (table,) = tables(report)
        return to_csv(table)
    if fmt is Format.xlsx:
        return to_xlsx(
            tables(report), report_title(report), report_subtitle(report), _about(report)
        )
    html = to_html(report)
    return html_to_pdf(html) if fmt is Format.pdf else html


def _about(report: Report) -> list[tuple[str, Any]]:
    """The position's date as a date a spreadsheet can use, and how to read the figures."""
    if isinstance(report, ChangesReport):
        return [("Recorded after", report.since), ("Up to the end of", report.until)]
    about: list[tuple[str, Any]] = [
        ("Position at", report.scope.position_date),
        ("As known on", report.scope.known_date),
    ]
    if not isinstance(report, BudgetBySource):
        about.append(("RAG judged on", report.judged_on))
    if isinstance(report, BudgetBySource):
        about.append(("Variance", VARIANCE_RULE))
    return about
