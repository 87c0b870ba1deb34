"""What a person reads, whatever the channel: facts with labels, a plain-text body and an
HTML body, rendered from an alert or a digest. Templates are in `templates/`; the HTML
ones autoescape, since scheme titles and reasons are typed by people."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from events import AlertRaised, Severity
from services.notifier.delivery import Content
from services.notifier.digest import Digest
from services.notifier.rules import RAG_BOXES, long_date, pounds

if TYPE_CHECKING:
    from jinja2 import Environment

COLOURS = {Severity.critical: "#B3261E", Severity.warning: "#C77700", Severity.info: "#1F6FB2"}
DIGEST_COLOUR = "#34495E"

_LABELS = {
    "title": "Scheme",
    "event": "Event",
    "occurred_on": "Occurred on",
    "logged_by": "Logged by",
    "reason": "Reason",
    "previous_anticipated_completion": "Previous anticipated completion",
    "anticipated_completion": "Anticipated completion",
    "expected_completion": "Expected completion",
    "baseline_completion": "Baseline completion",
    "slippage_days": "Slippage against baseline (days)",
    "moved_by_days": "Moved by (days)",
    "days_overdue": "Days overdue",
    "budget": "Budget",
    "forecast_outturn": "Forecast outturn",
    "previous_forecast_outturn": "Previous forecast outturn",
    "overspend": "Overspend",
    "overspend_percent": "Overspend (%)",
    "status": "Status",
    "judged_on": "Judged on",
    "project_manager": "Project manager",
}
_MONEY = {"budget", "forecast_outturn", "previous_forecast_outturn", "overspend"}
_RAG_KEYS = {f"{prefix}{box}_rag" for box in RAG_BOXES for prefix in ("", "previous_")}


@cache
def _templates() -> Environment:
    """Made when the first message is rendered: most processes that wire up a notifier
    (every command) never render one, and need not load Jinja."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    templates = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    templates.filters["long_date"] = long_date
    templates.filters["pounds"] = pounds
    return templates


def facts(alert: AlertRaised) -> list[tuple[str, str]]:
    """Label and value for each detail worth showing, RAG boxes as `amber → red`."""
    shown: list[tuple[str, str]] = [("Scheme id", alert.scheme_id)]
    details = alert.details
    for key, value in details.items():
        if value is None or value == "" or key in _RAG_KEYS:
            continue
        shown.append((_LABELS.get(key, key.replace("_", " ").capitalize()), _shown(key, value)))
    for box in RAG_BOXES:
        now, before = details.get(f"{box}_rag"), details.get(f"previous_{box}_rag")
        if now is None:
            continue
        moved = f"{before} → {now}" if before is not None and before != now else str(now)
        shown.append((f"{box.capitalize()} RAG", moved))
    return shown


def _shown(key: str, value: str | int) -> str:
    if key in _MONEY:
        try:
            return pounds(Decimal(str(value)))
        except InvalidOperation:
            return str(value)
    if isinstance(value, str) and (key.endswith("_completion") or key.endswith("_on")):
        try:
            return long_date(dt.date.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def subject_of(content: Content) -> str:
    return content.subject


def colour_of(content: Content) -> str:
    return COLOURS[content.severity] if isinstance(content, AlertRaised) else DIGEST_COLOUR


def scheme_page(portal_url: str | None, scheme_id: str) -> str | None:
    """The scheme's page in the portal, when the deployment says where the portal is."""
    if not portal_url:
        return None
    return f"{portal_url.rstrip('/')}/schemes/{quote(scheme_id, safe='')}"


def plain_text(content: Content, portal_url: str | None = None) -> str:
    return _render(content, "txt", portal_url)


def html(content: Content, portal_url: str | None = None) -> str:
    return _render(content, "html", portal_url)


def _render(content: Content, kind: str, portal_url: str | None) -> str:
    link: Callable[[str], str | None] = partial(scheme_page, portal_url)
    if isinstance(content, Digest):
        template = _templates().get_template(f"digest.{kind}.j2")
        return template.render(digest=content, colour=DIGEST_COLOUR, facts=facts, link=link)
    template = _templates().get_template(f"alert.{kind}.j2")
    return template.render(
        alert=content, facts=facts(content), colour=colour_of(content), link=link
    )
