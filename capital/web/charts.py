"""The scheme page's chart: baseline against anticipated (or actual) completion, drawn on
the server as inline SVG. The page states the same facts in text beside it."""

from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape, quoteattr

# Narrow enough that its 14px labels stay legible on a 375px phone, scaled up on a desk.
WIDTH, ROW, LABEL = 360, 52, 0
INK, BASELINE, ON_TIME, LATE = "#0b0c0c", "#505a5f", "#00703c", "#d4351c"


def completion_chart(
    start: dt.date | None,
    baseline: dt.date | None,
    expected: dt.date | None,
    today: dt.date,
    expected_label: str = "Anticipated",
) -> str | None:
    """Two bars from the start: to the baseline completion and to the expected one (red
    when later than the baseline), with a line for today. None without both dates."""
    if baseline is None or expected is None:
        return None
    first = min(d for d in (start, baseline, expected, today) if d is not None)
    last = max(baseline, expected, today)
    span = max((last - first).days, 1)
    plot = WIDTH - LABEL - 10

    def x(day: dt.date) -> float:
        return LABEL + plot * (day - first).days / span

    late = expected > baseline
    bars = [("Baseline", baseline, BASELINE), (expected_label, expected, LATE if late else ON_TIME)]
    body = []
    for row, (name, end, colour) in enumerate(bars):
        y = 6 + row * ROW
        body.append(_text(0, y + 14, f"{name}: {end.day} {end:%b %Y}"))
        body.append(
            f'<rect x="{LABEL}" y="{y + 22}" width="{max(x(end) - LABEL, 2):.1f}" '
            f'height="18" fill="{colour}"/>'
        )
    marker = x(today)
    height = 6 + len(bars) * ROW + 20
    body.append(
        f'<line x1="{marker:.1f}" x2="{marker:.1f}" y1="4" y2="{height - 14}" stroke="{INK}" '
        'stroke-dasharray="4 3"/>'
    )
    body.append(_text(min(max(marker - 20, LABEL), WIDTH - 45), height - 4, "Today"))
    slip = (expected - baseline).days
    label = (
        f"Baseline completion {baseline:%d %B %Y}; {expected_label.lower()} completion "
        f"{expected:%d %B %Y}, "
        + (f"{slip} days later" if slip > 0 else f"{-slip} days earlier" if slip else "on time")
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label={quoteattr(label)} '
        f'viewBox="0 0 {WIDTH} {height}" font-family="arial, sans-serif" font-size="14">'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, content: str) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" fill="{INK}">{escape(content)}</text>'
