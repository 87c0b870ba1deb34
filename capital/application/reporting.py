"""Finance and committee reports: built from the projection, rendered in a format."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from capital.application.errors import InvalidInput
from capital.application.positions import position
from capital.application.principal import Operation, Principal, require
from capital.bootstrap import Container
from programme.position import Position
from services.reporter.changes import PeriodError
from services.reporter.model import (
    BudgetBySource,
    ChangesReport,
    Report,
    ReportKind,
    ReportScope,
)
from services.reporter.queries import ReconciliationError, build_changes, build_report
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
    since: dt.date | None = None,
) -> Report:
    """The report's figures in the position `shown` (by default: now), judged on its
    judging date; a pack with `since` (the last committee) has a page of what was recorded
    after it. ReconciliationError when the totals do not add up (never printed wrong)."""
    require(principal, Operation.view_programme)
    if kind is ReportKind.changes:
        raise UnsupportedReport("the changes report is between two dates: give from and to")
    shown = shown or position(container)
    with container.sessions() as session, refusing_backwards("since"):
        return build_report(
            kind,
            session,
            ReportScope(
                as_at=shown.as_at,
                known_on=shown.known_on,
                public=public,
                printed_on=container.settings.current_date(),
                committee=container.settings.committee_name,
                since=since,
            ),
            shown.judged_on,
            container.settings.rag,
        )


class UnsupportedReport(InvalidInput):
    def __init__(self, message: str) -> None:
        super().__init__("kind", message)


@contextmanager
def refusing_backwards(field: str) -> Iterator[None]:
    """A period that runs backwards is input the named field got wrong."""
    try:
        yield
    except PeriodError as error:
        raise InvalidInput(field, str(error)) from None


def changes(
    container: Container,
    principal: Principal,
    since: dt.date,
    until: dt.date | None = None,
    public: bool = False,
) -> ChangesReport:
    """What was recorded after the end of `since` up to the end of `until` (today unless
    given), each position judged on its own date. InvalidInput names `from` when the
    period runs backwards, `to` when it ends after today."""
    require(principal, Operation.view_programme)
    today = container.settings.current_date()
    until = until or today
    if until > today:
        raise InvalidInput(
            "to",
            f"to {until.isoformat()} is after today ({today.isoformat()}): nothing is known yet",
        )
    with container.sessions() as session, refusing_backwards("from"):
        return build_changes(session, since, until, container.settings.rag, public)


def rendered_changes(
    container: Container,
    principal: Principal,
    fmt: Format,
    since: dt.date,
    until: dt.date | None = None,
    public: bool = False,
) -> RenderedReport:
    """The changes report in a file format (not the terminal table)."""
    _check_format(ReportKind.changes, fmt)
    built = changes(container, principal, since, until, public)
    return RenderedReport(ReportKind.changes, fmt, render(built, fmt))


def rendered_report(
    container: Container,
    principal: Principal,
    kind: ReportKind,
    fmt: Format,
    shown: Position | None = None,
    public: bool = False,
    since: dt.date | None = None,
) -> RenderedReport:
    """The report in a file format (not the terminal table)."""
    _check_format(kind, fmt)
    built = report(container, principal, kind, shown, public, since)
    return RenderedReport(kind, fmt, render(built, fmt))


def _check_format(kind: ReportKind, fmt: Format) -> None:
    if fmt not in FORMATS[kind] or fmt is Format.table:
        allowed = ", ".join(f.value for f in FORMATS[kind] if f is not Format.table)
        raise UnsupportedFormat(f"the {kind.value} report comes as {allowed}, not {fmt.value}")


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
