"""Charts as inline SVG, drawn here on the server: the pack is one self-contained file that
opens offline and prints the same through WeasyPrint. Every label is XML-escaped here, so
templates may mark a chart `|safe`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from events import Rag
from services.reporter.formatting import day, money
from services.reporter.model import RagCounts, SchemeCard, SourceFigures
from services.reporter.render.palette import (
    BASELINE_INK,
    BUDGET_INK,
    FORECAST_INK,
    GRID_INK,
    MUTED_INK,
    OVERSPEND_INK,
    RAG_FILL,
    RAG_INK,
)

FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"
WIDTH = 900
TIMELINE_ROWS_PER_CHART = 20
MAX_YEAR_LINES = 40


def _svg(height: float, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label={quoteattr(label)} '
        f'viewBox="0 0 {WIDTH} {height:.0f}" preserveAspectRatio="xMinYMin meet" '
        f'font-family="{FONT}" font-size="12">'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, content: str, **attributes: str) -> str:
    extra = "".join(f" {name.replace('_', '-')}={quoteattr(v)}" for name, v in attributes.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(content)}</text>'


def _rect(x: float, y: float, width: float, height: float, fill: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" '
        f'height="{height:.1f}" fill="{fill}"/>'
    )


def _legend(items: Sequence[tuple[str, str]], x: float, y: float) -> list[str]:
    parts = []
    for label, colour in items:
        parts.append(_rect(x, y - 10, 12, 12, colour))
        parts.append(_text(x + 18, y, label))
        x += 18 + 7.5 * len(label) + 24
    return parts


# --- budget by source ---------------------------------------------------------------------


def budget_by_source_chart(rows: Sequence[SourceFigures]) -> str:
    """Budget and forecast outturn per source as paired bars; a forecast over budget is red."""
    label_width, value_width, bar_height, gap = 190.0, 120.0, 13.0, 14.0
    top = 34.0
    plot_width = WIDTH - label_width - value_width - 10
    largest = max([Decimal(1), *(max(r.budget, r.forecast_outturn) for r in rows)])
    body = _legend(
        [
            ("Budget", BUDGET_INK),
            ("Forecast outturn", FORECAST_INK),
            ("Over budget", OVERSPEND_INK),
        ],
        label_width,
        16,
    )
    y = top
    for row in rows:
        body.append(
            _text(label_width - 8, y + bar_height + 4, row.funding_source, text_anchor="end")
        )
        for value, colour in (
            (row.budget, BUDGET_INK),
            (row.forecast_outturn, OVERSPEND_INK if row.variance > 0 else FORECAST_INK),
        ):
            width = float(max(value, Decimal(0)) / largest) * plot_width
            body.append(_rect(label_width, y, width, bar_height, colour))
            body.append(
                _text(label_width + width + 6, y + bar_height - 2, money(value, pence=False))
            )
            y += bar_height + 1
        y += gap
    if not rows:
        body.append(_text(label_width, top + 16, "No funded schemes.", fill=MUTED_INK))
        y += 30
    return _svg(y + 4, body, "Budget and forecast outturn by funding source")


# --- RAG distribution ---------------------------------------------------------------------


def rag_distribution_chart(totals: dict[str, RagCounts]) -> str:
    """One 100% bar per RAG (programme, budget, overall), split green/amber/red with counts."""
    label_width, bar_height, gap, top = 110.0, 30.0, 16.0, 34.0
    plot_width = WIDTH - label_width - 20
    body = _legend([(rag.value.capitalize(), RAG_FILL[rag]) for rag in Rag], label_width, 16)
    y = top
    for which, counts in totals.items():
        body.append(
            _text(label_width - 10, y + bar_height / 2 + 4, which.capitalize(), text_anchor="end")
        )
        x = label_width
        if counts.total == 0:
            body.append(_rect(x, y, plot_width, bar_height, GRID_INK))
        for rag in Rag:
            count = counts.count(rag)
            if not count:
                continue
            width = plot_width * count / counts.total
            body.append(_rect(x, y, width, bar_height, RAG_FILL[rag]))
            if width >= 24:
                body.append(
                    _text(
                        x + width / 2,
                        y + bar_height / 2 + 4,
                        str(count),
                        text_anchor="middle",
                        fill=RAG_INK[rag],
                        font_weight="bold",
                    )
                )
            x += width
        y += bar_height + gap
    return _svg(y, body, "Schemes by programme, budget and overall RAG")


# --- baseline against anticipated completion ----------------------------------------------


@dataclass(frozen=True)
class _Span:
    scheme_id: str
    baseline: dt.date | None
    expected: dt.date | None  # actual completion if complete, else the expected completion
    complete: bool
    rag: Rag


AXIS_YEARS = 10
"""How many years either side of the judging date a completion chart's axis may reach."""


def completion_charts(cards: Sequence[SchemeCard], judged_on: dt.date) -> list[str]:
    """Baseline against anticipated (or actual) completion per scheme, on one time axis
    shared by every chart, at most TIMELINE_ROWS_PER_CHART schemes each so a chart fits a
    printed page."""
    spans = [
        _Span(
            c.scheme_id,
            c.baseline_completion,
            c.actual_completion or c.expected_completion,
            c.actual_completion is not None,
            c.programme_rag,
        )
        for c in cards
    ]
    dates = [d for s in spans for d in (s.baseline, s.expected) if d] + [judged_on]
    # The axis spans the years the dates fall in, but at most AXIS_YEARS either side of the
    # judging date: a date typed far out (2100-12-31) is drawn at the edge, not as a
    # century of gridlines, and no year past the calendar's last is ever needed.
    first = max(min(dates).year, judged_on.year - AXIS_YEARS, dt.MINYEAR)
    last = min(max(dates).year, judged_on.year + AXIS_YEARS)
    start = dt.date(first, 1, 1)
    end = dt.date(last + 1, 1, 1) if last < dt.MAXYEAR else dt.date.max
    chunks = [
        spans[i : i + TIMELINE_ROWS_PER_CHART]
        for i in range(0, len(spans), TIMELINE_ROWS_PER_CHART)
    ]
    return [_timeline(chunk, start, end, judged_on) for chunk in chunks or [[]]]


def _timeline(spans: Sequence[_Span], start: dt.date, end: dt.date, judged_on: dt.date) -> str:
    label_width, row_height, top = 110.0, 20.0, 52.0
    plot_width = WIDTH - label_width - 30
    span_days = (end - start).days

    def x_of(when: dt.date) -> float:
        shown = min(max(when, start), end)
        return label_width + plot_width * (shown - start).days / span_days

    bottom = top + row_height * max(len(spans), 1)
    body = _timeline_legend(label_width, 16)
    # A line a year, or fewer on a very long axis (a date entered decades out).
    every = max(1, (end.year - start.year) // MAX_YEAR_LINES + 1)
    for year in range(start.year, end.year + 1, every):
        x = x_of(dt.date(year, 1, 1))
        body.append(
            f'<line x1="{x:.1f}" y1="{top - 8}" x2="{x:.1f}" y2="{bottom}" stroke="{GRID_INK}"/>'
        )
        if year < end.year:
            body.append(_text(x + 4, top - 12, str(year), fill=MUTED_INK))
    today_x = x_of(judged_on)
    body.append(
        f'<line x1="{today_x:.1f}" y1="{top - 8}" x2="{today_x:.1f}" y2="{bottom}" '
        f'stroke="{MUTED_INK}" stroke-dasharray="4 3"/>'
    )
    body.append(_text(today_x + 4, bottom + 14, f"judged on {day(judged_on)}", fill=MUTED_INK))
    for index, span in enumerate(spans):
        y = top + row_height * index + row_height / 2
        body.append(_text(label_width - 10, y + 4, span.scheme_id, text_anchor="end"))
        colour = RAG_FILL[span.rag]
        if span.baseline and span.expected:
            body.append(
                f'<line x1="{x_of(span.baseline):.1f}" y1="{y:.1f}" x2="{x_of(span.expected):.1f}" '
                f'y2="{y:.1f}" stroke="{colour}" stroke-width="3"/>'
            )
        if span.expected:
            x = x_of(span.expected)
            shape = (
                _rect(x - 5, y - 5, 10, 10, colour)
                if span.complete
                else f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{colour}"/>'
            )
            body.append(shape)
        if span.baseline:
            # Drawn last and hollow, so a scheme finishing on its baseline shows both marks.
            body.append(
                f'<circle cx="{x_of(span.baseline):.1f}" cy="{y:.1f}" r="7" fill="none" '
                f'stroke="{BASELINE_INK}" stroke-width="2"/>'
            )
    if not spans:
        body.append(_text(label_width, top + 14, "No schemes.", fill=MUTED_INK))
    return _svg(bottom + 22, body, "Baseline against anticipated completion per scheme")


def _timeline_legend(x: float, y: float) -> list[str]:
    """Marker shapes in a neutral ink, then what the colours mean."""
    ink = BASELINE_INK
    return [
        f'<circle cx="{x + 6}" cy="{y - 4}" r="6" fill="none" stroke="{ink}" stroke-width="2"/>',
        _text(x + 16, y, "Baseline"),
        f'<circle cx="{x + 96}" cy="{y - 4}" r="6" fill="{ink}"/>',
        _text(x + 106, y, "Anticipated"),
        _rect(x + 206, y - 9, 10, 10, ink),
        _text(x + 222, y, "Actual completion"),
        _text(x + 380, y, "Programme RAG:", fill=MUTED_INK),
        *_legend([(rag.value.capitalize(), RAG_FILL[rag]) for rag in Rag], x + 490, y),
    ]
