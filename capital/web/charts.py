"""The scheme page's chart: baseline against anticipated (or actual) completion, drawn on
the server as inline SVG. The page states the same facts in text beside it."""

from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape, quoteattr

from programme.position import long_date

# Narrow, so its 14px labels stay legible on a 375px phone; the page caps its width on a desk.
WIDTH, ROW = 360, 52
INK, BASELINE, ON_TIME, LATE = "#0b0c0c", "#505a5f", "#00703c", "#d4351c"


def completion_chart(
    start: dt.date | None,
    baseline: dt.date | None,
    expected: dt.date | None,
    today: dt.date,
    expected_label: str = "Anticipated",
    today_label: str = "Today",
) -> str | None:
    """Two bars on one time axis, from the start on site (or a little before the earlier
    date) to the baseline and to the expected completion; the part of the expected bar past
    the baseline is red. A dashed line marks `today` (the date RAG is judged on), labelled
    `today_label`. None without both dates."""
    if baseline is None or expected is None:
        return None
    earlier, later = min(baseline, expected), max(baseline, expected, today)
    margin = dt.timedelta(days=max((later - earlier).days // 10, 7))
    first = start if start is not None and start < earlier else earlier - margin
    last = later + margin
    span = (last - first).days

    def x(day: dt.date) -> float:
        return (WIDTH - 2) * (day - first).days / span + 1

    body = [
        _text(0, 20, f"Baseline: {long_date(baseline)}"),
        _bar(x(first), x(baseline), 28, BASELINE),
        _text(0, 20 + ROW, f"{expected_label}: {long_date(expected)}"),
        _bar(x(first), x(min(expected, baseline)), 28 + ROW, ON_TIME),
    ]
    if expected > baseline:
        body.append(_bar(x(baseline), x(expected), 28 + ROW, LATE))
    height = 2 * ROW + 30
    marker = x(today)
    for top in (24, 24 + ROW):  # across the bars only, clear of their labels
        body.append(
            f'<line x1="{marker:.1f}" x2="{marker:.1f}" y1="{top}" y2="{top + 26}" '
            f'stroke="{INK}" stroke-width="2" stroke-dasharray="4 3"/>'
        )
    room = max(45, 7 * len(today_label))  # about 7 px a character at the label's size
    body.append(_text(min(max(marker - 20, 0), WIDTH - room), height - 2, today_label))
    slip = (expected - baseline).days
    label = (
        f"Baseline completion {long_date(baseline)}; {expected_label.lower()} completion "
        f"{long_date(expected)}, "
        + (f"{slip} days later" if slip > 0 else f"{-slip} days earlier" if slip else "on time")
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label={quoteattr(label)} '
        f'viewBox="0 0 {WIDTH} {height}" font-family="arial, sans-serif" font-size="14">'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>"
    )


def _bar(left: float, right: float, y: float, colour: str) -> str:
    return (
        f'<rect x="{left:.1f}" y="{y}" width="{max(right - left, 2):.1f}" height="18" '
        f'fill="{colour}"/>'
    )


def _text(x: float, y: float, content: str) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" fill="{INK}">{escape(content)}</text>'
