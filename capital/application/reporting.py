"""Finance and committee reports: built from the projection, rendered in a format."""

from __future__ import annotations

from dataclasses import dataclass

from capital.application.errors import InvalidInput
from capital.application.positions import position
from capital.application.principal import Operation, Principal, require
from capital.bootstrap import Container
from programme.position import Position
from services.reporter.model import BudgetBySource, Report, ReportKind, ReportScope
from services.reporter.queries import ReconciliationError, build_report
from services.reporter.render import FORMATS, Format, PdfUnavailable, render
from services.reporter.render.charts import budget_by_source_chart

__all__ = ["FORMATS", "Format", "PdfUnavailable", "ReconciliationError", "ReportKind"]

MEDIA_TYPES = {
    Format.json: "application/json",
    Format.csv: "text/csv; charset=utf-8",
    Format.html: "text/html; charset=utf-8",
    Format.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Format.pdf: "application/pdf",
}


class UnsupportedFormat(InvalidInput):
    def __init__(self, message: str) -> None:
        super().__init__("format", message)


@dataclass(frozen=True)
class RenderedReport:
    kind: ReportKind
    format: Format
    content: str | bytes

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES.get(self.format, "text/plain; charset=utf-8")

    @property
    def filename(self) -> str:
        return f"capital-{self.kind.value}.{self.format.value}"


def report(
    container: Container,
    principal: Principal,
    kind: ReportKind,
    shown: Position | None = None,
    public: bool = False,
) -> Report:
    """The report's figures in the position `shown` (by default: now), judged on its
    judging date. ReconciliationError when the totals do not add up (never printed
    wrong)."""
    require(principal, Operation.view_programme)
    shown = shown or position(container)
    with container.sessions() as session:
        return build_report(
            kind,
            session,
            ReportScope(
                as_at=shown.as_at,
                known_on=shown.known_on,
                public=public,
                printed_on=container.settings.current_date(),
                committee=container.settings.committee_name,
            ),
            shown.judged_on,
            container.settings.rag,
        )


def rendered_report(
    container: Container,
    principal: Principal,
    kind: ReportKind,
    fmt: Format,
    shown: Position | None = None,
    public: bool = False,
) -> RenderedReport:
    """The report in a file format (not the terminal table)."""
    if fmt not in FORMATS[kind] or fmt is Format.table:
        allowed = ", ".join(f.value for f in FORMATS[kind] if f is not Format.table)
        raise UnsupportedFormat(f"the {kind.value} report comes as {allowed}, not {fmt.value}")
    built = report(container, principal, kind, shown, public)
    return RenderedReport(kind, fmt, render(built, fmt))


@dataclass(frozen=True)
class BudgetOnScreen:
    """Budget by funding source for a page: the figures and the pack's own chart of them."""

    report: BudgetBySource
    chart_svg: str


def budget_on_screen(
    container: Container, principal: Principal, shown: Position | None = None
) -> BudgetOnScreen:
    built = report(container, principal, ReportKind.budget_by_source, shown)
    assert isinstance(built, BudgetBySource)
    return BudgetOnScreen(built, budget_by_source_chart(built.rows))
