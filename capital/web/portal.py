"""The portal's pages. Each route turns the request into one call of the application layer
and renders a template; who may see or do what is decided there (AccessDenied becomes the
403 page), never here. Every form carries the session's CSRF token and every POST checks
it. Every page works without JavaScript; htmx only swaps the board's results in place."""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.datastructures import FormData

from capital.api.security import (
    SESSION_COOKIE,
    container_of,
    csrf_matches,
    csrf_token,
    set_session_cookie,
)
from capital.application import accounts, alerting, positions, reporting, schemes
from capital.application.principal import (
    AccessDenied,
    Operation,
    Principal,
    may,
    may_record,
)
from capital.application.publishing import NotPermitted, publish_batch
from capital.bootstrap import Container
from capital.web import board, forms
from capital.web.assets import mount_assets
from capital.web.charts import completion_chart
from events import EventType, Rag, SchemeStatus, Severity, new_event
from programme.board import SchemeFilter
from programme.permissions import SITE_UPDATES, Role
from programme.position import Position, long_date

SIGN_IN_COOKIE = "capital_sign_in"
Choice = TypeVar("Choice", bound=Enum)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)


def _pounds(amount: Decimal | None) -> str:
    if amount is None:
        return "–"
    return f"{'-' if amount < 0 else ''}£{abs(amount):,.0f}"


def _long_date(day: dt.date | None) -> str:
    return "Not recorded" if day is None else f"{day.day} {day:%B %Y}"


def _sentence(text: str) -> str:
    """Capitalised like a sentence, leaving the rest as typed (unlike Jinja's capitalize)."""
    return text[:1].upper() + text[1:]


def _short_date(day: dt.date | None) -> str:
    return "–" if day is None else f"{day.day}\N{NO-BREAK SPACE}{day:%b %Y}"


templates.env.filters["pounds"] = _pounds
templates.env.filters["short_date"] = _short_date
templates.env.filters["sentence"] = _sentence
templates.env.filters["long_date"] = _long_date

EVENT_LABELS = {form.event_type: form.title for form in forms.FORMS} | {
    EventType.scheme_registered: "Registered",
}
CHANNELS: dict[str, Literal["email", "webhook"]] = {"email": "email", "webhook": "webhook"}
SEVERITIES = [(s.value, s.value.capitalize()) for s in Severity]
RAG_TAG = {"green": "govuk-tag--green", "amber": "govuk-tag--yellow", "red": "govuk-tag--red"}


class SignInNeeded(Exception):
    """No valid session: the page sends the browser to sign in."""


class CsrfRefused(Exception):
    """A POST without the session's CSRF token: refused with the 403 page."""


# --- who is asking -------------------------------------------------------------------------


def viewer(request: Request) -> Principal:
    """The signed-in user of the session cookie, or SignInNeeded."""
    cookie = request.cookies.get(SESSION_COOKIE)
    principal = (
        accounts.authenticate(container_of(request).sessions, cookie, kind="session")
        if cookie
        else None
    )
    if principal is None:
        raise SignInNeeded()
    request.state.principal = principal
    return principal


async def posted_form(request: Request) -> FormData:
    """The POSTed form, read on the event loop so that the handler itself can be a plain
    `def`: FastAPI runs those in a thread, and their database calls block no one else."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


def check_csrf(request: Request, sent: FormData) -> None:
    """CsrfRefused unless the form's CSRF token is the session's (or, before signing in, the
    sign-in page's)."""
    seed = _csrf_seed(request)
    if seed is None or not csrf_matches(request, seed, str(sent.get("csrf_token") or "")):
        raise CsrfRefused()


def _csrf_seed(request: Request) -> str | None:
    session = request.cookies.get(SESSION_COOKIE)
    if session and getattr(request.state, "principal", None) is not None:
        return session
    pre = request.cookies.get(SIGN_IN_COOKIE)
    return f"sign-in:{pre}" if pre else None


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    principal: Principal | None = getattr(request.state, "principal", None)
    session = request.cookies.get(SESSION_COOKIE)
    csrf = context.pop("csrf", None) or (
        csrf_token(request, session) if principal and session else ""
    )
    web = container_of(request).settings.web
    return templates.TemplateResponse(
        request,
        template,
        {
            "service_name": web.service_name,
            "zone": ZoneInfo(container_of(request).settings.timezone),
            "user": principal,
            "csrf": csrf,
            "nav": _navigation(principal, request.url.path, request.query_params),
            "rag_tag": RAG_TAG,
            **context,
        },
        status_code=status_code,
    )


def _navigation(principal: Principal | None, path: str, query: Any) -> list[dict[str, Any]]:
    if principal is None:
        return []
    roles = principal.roles or frozenset()
    items: list[tuple[str, str]] = []
    if Role.project_manager in roles:
        items.append(("My schemes", "/schemes?mine=1"))
    items += [("Board", "/schemes"), ("Alerts", "/alerts"), ("Reports", "/reports")]
    if may(principal, Operation.manage_subscribers):
        items.append(("Subscribers", "/admin/subscribers"))
    if may(principal, Operation.manage_users):
        items += [("Users", "/admin/users"), ("Tokens", "/admin/tokens")]
    mine = query.get("mine") == "1"
    current = "/schemes?mine=1" if path == "/schemes" and mine else path
    return [
        {
            "label": label,
            "href": href,
            "active": current == href
            or (href != "/schemes" and current.startswith(href.split("?")[0] + "/")),
        }
        for label, href in items
    ]


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- signing in and out --------------------------------------------------------------------


@router.get("/")
def home(request: Request) -> Response:
    principal = viewer(request)
    roles = principal.roles or frozenset()
    if Role.project_manager in roles and not roles & {Role.head_of_capital, Role.admin}:
        return _redirect("/schemes?mine=1")
    if roles == {Role.finance}:
        return _redirect("/reports")
    return _redirect("/schemes")


@router.get("/sign-in")
def sign_in_page(request: Request) -> Response:
    return _sign_in_form(request)


def _sign_in_form(
    request: Request,
    errors: dict[str, str] | None = None,
    email: str = "",
    status_code: int = 200,
    notice: str = "",
) -> Response:
    pre = request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(24)
    request.state.principal = None
    response = page(
        request,
        "sign_in.html",
        status_code,
        csrf=csrf_token(request, f"sign-in:{pre}"),
        errors=errors or {},
        email=email,
        next=_local_path(request.query_params.get("next") or ""),
        sso=request.app.state.sso_client is not None,
        sso_label=container_of(request).settings.web.sso.label,
        notice=notice or ("You have signed out." if request.query_params.get("signed_out") else ""),
    )
    response.set_cookie(
        SIGN_IN_COOKIE, pre, httponly=True, samesite="lax",
        secure=container_of(request).settings.web.secure_cookies,
    )  # fmt: skip
    return response


def _local_path(target: str) -> str:
    """`target` when it is a path on this site (where to go after signing in), else ""; a
    link must not send someone signing in to another site."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return ""


@router.post("/sign-in")
def sign_in(request: Request, sent: PostedForm) -> Response:
    request.state.principal = None
    check_csrf(request, sent)
    email, password = str(sent.get("email") or "").strip(), str(sent.get("password") or "")
    errors = {}
    if not email:
        errors["email"] = "Enter your email address"
    if not password:
        errors["password"] = "Enter your password"
    if errors:
        return _sign_in_form(request, errors, email, 400)
    container = container_of(request)
    web = container.settings.web
    try:
        issued = accounts.sign_in(
            container.sessions,
            request.app.state.throttle,
            email,
            password,
            request.client.host if request.client else "unknown",
            dt.timedelta(hours=web.session_hours),
        )
    except accounts.SignInThrottled as error:
        minutes = max(1, round(error.retry_after_s / 60))
        wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
        message = f"Too many failed attempts to sign in. Wait {wait} and try again"
        return _sign_in_form(request, {"email": message}, email, 429)
    except accounts.SignInRefused:
        return _sign_in_form(
            request, {"email": "Enter a correct email address and password"}, email, 401
        )
    response = _redirect(_local_path(request.query_params.get("next") or "") or "/")
    set_session_cookie(response, issued.token, web)
    response.delete_cookie(SIGN_IN_COOKIE)
    return response


@router.post("/sign-out")
def sign_out(request: Request, sent: PostedForm) -> Response:
    viewer(request)
    check_csrf(request, sent)
    accounts.sign_out(container_of(request).sessions, request.cookies[SESSION_COOKIE])
    response = _redirect("/sign-in?signed_out=1")
    response.delete_cookie(SESSION_COOKIE)
    return response


# --- the board and a scheme ----------------------------------------------------------------


@router.get("/schemes")
def board_page(request: Request) -> Response:
    principal = viewer(request)
    query = request.query_params
    mine = query.get("mine") == "1"

    def chosen(name: str) -> str | None:
        return (query.get(name) or "").strip() or None

    where = SchemeFilter(
        rag=_member(Rag, chosen("rag")),
        status=_member(SchemeStatus, chosen("status")),
        programme=chosen("programme"),
        funding_source=chosen("funding_source"),
        project_manager=principal.name if mine else chosen("project_manager"),
        q=chosen("q"),
    )
    container = container_of(request)
    position, typed, errors = _picked_position(container, query)
    shown = schemes.board(container, principal, position, where)
    everything = schemes.board(container, principal).rows if not mine else []
    sort, rows = board.in_order(shown.rows, query.get("sort") or "")
    counts = Counter(row["overall_rag"].value for row in rows)
    return page(
        request,
        "board.html",
        rows=rows,
        counts=counts,
        mine=mine,
        where=where,
        sort=sort,
        sorts=board.SORT_LABELS,
        statuses=[s.value for s in SchemeStatus],
        choices=_board_choices(everything),
        position=shown.position.describe(),
        position_query=_position_query(position),
        typed=typed,
        errors=errors,
    )


def _member(kind: type[Choice], value: str | None) -> Choice | None:
    """The enum member a filter names; anything else filters nothing."""
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def _board_choices(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    return {
        "project_manager": sorted({r["project_manager"] for r in rows if r["project_manager"]}),
    }


@router.get("/schemes/{scheme_id}")
def scheme_page(request: Request, scheme_id: str) -> Response:
    principal = viewer(request)
    container = container_of(request)
    position, _, _ = _picked_position(container, request.query_params)
    record = schemes.scheme_record(container, principal, scheme_id, position)
    scheme = record.scheme
    recorded = request.query_params.get("recorded")
    outcome = _outcome(container, principal, record, recorded) if recorded else None
    chart = completion_chart(
        scheme["actual_start"],
        scheme["baseline_completion"],
        scheme["actual_completion"] or scheme["expected_completion"],
        record.position.judged_on,
        "Actual" if scheme["actual_completion"] else "Anticipated",
        # A past position is judged on its own date, not today.
        "Today" if record.position.as_at is None else long_date(record.position.judged_on),
    )
    updates = [f for f in forms.FORMS if may_record(principal, f.event_type)]
    return page(
        request,
        "scheme.html",
        scheme=scheme,
        history=list(reversed(record.history)),
        event_labels={t.value: label for t, label in EVENT_LABELS.items()},
        done_labels={f.event_type.value: f.done for f in forms.FORMS},
        outcome=outcome,
        position=record.position.describe(),
        chart=Markup(chart) if chart else None,
        site_updates=[f for f in updates if f.event_type in SITE_UPDATES],
        decisions=[f for f in updates if f.event_type not in SITE_UPDATES],
    )


def _outcome(
    container: Container, principal: Principal, record: schemes.SchemeRecord, event_id: str
) -> dict[str, Any] | None:
    """What saving an update changed: the event, the RAG now, and the alerts it raised."""
    event = next((e for e in record.history if e["event_id"] == event_id), None)
    if event is None:
        return {"pending": True}
    raised = [
        alert
        for alert in alerting.alerts(
            container, principal, alerting.AlertQuery(scheme_id=record.scheme["scheme_id"])
        )
        if alert["cause_event_id"] == event_id
    ]
    held = [alert for alert in raised if alert["delivery_status"] == "digest"]
    at_once = [alert for alert in raised if alert not in held]
    return {"pending": False, "event": event, "alerts": at_once, "digest": held}


@router.get("/schemes/{scheme_id}/record/{slug}")
def update_form(request: Request, scheme_id: str, slug: str) -> Response:
    principal = viewer(request)
    form = _form(slug, principal)
    record = schemes.scheme_record(container_of(request), principal, scheme_id)
    today = container_of(request).settings.current_date()
    typed = {
        f"{forms.WHEN}-day": str(today.day),
        f"{forms.WHEN}-month": str(today.month),
        f"{forms.WHEN}-year": str(today.year),
    }
    return _update_page(request, record.scheme, form, forms.Answers(typed=typed))


def _form(slug: str, principal: Principal) -> forms.UpdateForm:
    form = forms.BY_SLUG.get(slug)
    if form is None:
        raise schemes.UnknownScheme(f"no update form {slug!r}")
    if not may_record(principal, form.event_type):
        raise AccessDenied(f"{principal.describe()} may not record {form.event_type.value}")
    return form


def _update_page(
    request: Request,
    scheme: dict[str, Any],
    form: forms.UpdateForm,
    answers: forms.Answers,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    snags = tuple((s["snag_id"], f"{s['snag_id']}: {s['description']}")
                  for s in scheme["open_snag_list"])  # fmt: skip
    return page(
        request,
        "update.html",
        status_code,
        scheme=scheme,
        form=form,
        snags=snags,
        answers=answers,
        problems=problems or [],
        when=forms.WHEN,
    )


@router.post("/schemes/{scheme_id}/record/{slug}")
def record_update(request: Request, scheme_id: str, slug: str, sent: PostedForm) -> Response:
    principal = viewer(request)
    check_csrf(request, sent)
    form = _form(slug, principal)
    container = container_of(request)
    record = schemes.scheme_record(container, principal, scheme_id)
    answers = forms.read_answers(form, {k: str(v) for k, v in sent.items()})
    if answers.errors:
        return _update_page(request, record.scheme, form, answers, status_code=400)
    assert answers.occurred_on is not None
    try:
        event = new_event(form.event_type, scheme_id, answers.occurred_on, answers.payload)
    except ValueError as error:
        return _update_page(request, record.scheme, form, answers, [str(error)], 400)
    wait = container.settings.web.publish_wait_seconds
    try:
        outcome = publish_batch(container, principal, [event.model_dump(mode="json")], wait)
    except NotPermitted as error:
        raise AccessDenied(str(error)) from None
    refused = [e.reason for e in outcome.invalid] + (
        [e.reason for e in outcome.report.errors] if outcome.report else []
    )
    if refused:
        problems = forms.place_refusals(answers, refused)
        return _update_page(request, record.scheme, form, answers, problems, 400)
    return _redirect(f"/schemes/{quote(scheme_id)}?recorded={event.event_id}")


# --- alerts --------------------------------------------------------------------------------


@router.get("/alerts")
def alerts_page(request: Request) -> Response:
    principal = viewer(request)
    unacknowledged = request.query_params.get("unacknowledged") == "1"
    rows = alerting.alerts(
        container_of(request), principal, alerting.AlertQuery(unacknowledged=unacknowledged)
    )
    return page(
        request,
        "alerts.html",
        rows=rows,
        unacknowledged=unacknowledged,
        may_acknowledge=may(principal, Operation.acknowledge_alerts),
        acknowledged=request.query_params.get("acknowledged"),
    )


@router.post("/alerts/acknowledge")
def acknowledge(request: Request, sent: PostedForm) -> Response:
    principal = viewer(request)
    check_csrf(request, sent)
    chosen = [str(v) for v in sent.getlist("alert_id")]
    back = "/alerts?unacknowledged=1" if sent.get("unacknowledged") == "1" else "/alerts"
    if not chosen:
        rows = alerting.alerts(container_of(request), principal)
        return page(
            request, "alerts.html", 400, rows=rows, unacknowledged=False,
            may_acknowledge=may(principal, Operation.acknowledge_alerts), acknowledged=None,
            errors={"alert_id": "Select the alerts to acknowledge"},
        )  # fmt: skip
    try:
        done = alerting.acknowledge(container_of(request), principal, chosen)
    except alerting.NotFound:
        # Nothing was acknowledged (all or none); the list shows what there is now.
        done = []
    joiner = "&" if "?" in back else "?"
    return _redirect(f"{back}{joiner}acknowledged={len(done)}")


# --- reports -------------------------------------------------------------------------------


@router.get("/reports")
def reports_page(request: Request) -> Response:
    principal = viewer(request)
    container = container_of(request)
    shown, typed, errors = _picked_position(container, request.query_params)
    typed["since"] = (request.query_params.get("since") or "").strip()
    since, since_error = _picked_date(typed["since"])
    if since_error:
        errors["since"] = since_error
    # The changes since the last committee run up to the date the figures are known on.
    until = shown.known_on or container.settings.current_date()
    if since and since >= until:
        since, errors["since"] = None, "The last committee must be before the date of the figures"
    on_screen = reporting.budget_on_screen(container, principal, shown)
    query = _position_query(shown)
    period = (
        urlencode(
            {"from": since.isoformat(), **({"to": until.isoformat()} if shown.known_on else {})}
        )
        if since
        else ""
    )
    return page(
        request,
        "reports.html",
        report=on_screen.report,
        chart=Markup(on_screen.chart_svg),
        typed=typed,
        since=since,
        errors=errors,
        query=query,
        period=period,
        pack_query="&".join(
            filter(None, [query, urlencode({"since": since.isoformat()}) if since else ""])
        ),
    )


def _picked_position(
    container: Container, query: Mapping[str, str]
) -> tuple[Position, dict[str, str], dict[str, str]]:
    """The position the page's `as_at` and `known_on` pick (day/month/year or ISO), what
    was typed, and an error for each date that is not one (that date is then left out)."""
    typed = {name: (query.get(name) or "").strip() for name in ("as_at", "known_on")}
    picked = {name: _picked_date(text) for name, text in typed.items()}
    errors = {name: error for name, (_, error) in picked.items() if error}
    dates = {name: day for name, (day, _) in picked.items() if day}
    return positions.position(container, **dates), typed, errors


def _position_query(shown: Position) -> str:
    """The position's dates as a query string, for links that keep to it."""
    dates = {"as_at": shown.as_at, "known_on": shown.known_on}
    return urlencode({name: day.isoformat() for name, day in dates.items() if day})


def _picked_date(typed: str) -> tuple[dt.date | None, str | None]:
    """The MOJ date picker's day/month/year text (or an ISO date)."""
    if not typed:
        return None, None
    try:
        if "/" in typed:
            day, month, year = (int(part) for part in typed.split("/"))
            return dt.date(year, month, day), None
        return dt.date.fromisoformat(typed), None
    except ValueError:
        return None, "Date must be a real date, like 29/7/2024"


# --- administration ------------------------------------------------------------------------


@router.get("/admin/users")
def users_page(request: Request) -> Response:
    principal = viewer(request)
    users = accounts.list_users(container_of(request).sessions, principal)
    # "Change roles" fills the form with the user's email and the roles they hold.
    chosen = next((u for u in users if u.name == request.query_params.get("email")), None)
    typed = {"email": chosen.name, "roles": chosen.roles} if chosen else {}
    return page(request, "admin/users.html", users=users, roles=[r.value for r in Role],
                errors={}, typed=typed, done=request.query_params.get("done"))  # fmt: skip


@router.post("/admin/users")
def save_user(request: Request, sent: PostedForm) -> Response:
    principal = viewer(request)
    check_csrf(request, sent)
    sessions = container_of(request).sessions
    email = str(sent.get("email") or "").strip()
    roles = [role for r in sent.getlist("roles") if (role := _member(Role, str(r)))]
    password = str(sent.get("password") or "") or None
    errors = {}
    if not email:
        errors["email"] = "Enter the user's email address"
    if not roles:
        errors["roles"] = "Select at least one role"
    if not errors:
        try:
            accounts.add_user(sessions, principal, email, roles, password)
        except ValueError as error:
            errors["password" if password and "password" in str(error) else "email"] = str(error)
    if errors:
        users = accounts.list_users(sessions, principal)
        return page(request, "admin/users.html", 400, users=users, roles=[r.value for r in Role],
                    errors=errors, typed={"email": email, "roles": [r.value for r in roles]},
                    done=None)  # fmt: skip
    return _redirect(f"/admin/users?done={quote(f'{email} saved')}")


@router.post("/admin/users/remove")
def remove_user(request: Request, sent: PostedForm) -> Response:
    principal = viewer(request)
    check_csrf(request, sent)
    email = str(sent.get("email") or "")
    accounts.remove_user(container_of(request).sessions, principal, email)
    return _redirect(f"/admin/users?done={quote(f'{email} removed')}")


@router.get("/admin/tokens")
def tokens_page(request: Request) -> Response:
    return _tokens_page(request, viewer(request), None)


def _tokens_page(request: Request, principal: Principal, issued: dict[str, Any] | None) -> Response:
    tokens = accounts.list_tokens(container_of(request).sessions, principal)
    return page(request, "admin/tokens.html", tokens=[asdict(t) for t in tokens],
                issued=issued, done=request.query_params.get("done"))  # fmt: skip


@router.post("/admin/tokens")
def issue_token(request: Request, sent: PostedForm) -> Response:
    principal = viewer(request)
    check_csrf(request, sent)
    days = str(sent.get("days") or "90")
    email = str(sent.get("email") or "")
    issued = accounts.issue_token(
        container_of(request).sessions, principal, email,
        dt.timedelta(days=int(days) if days.isdigit() and 0 < int(days) <= 3650 else 90),
    )  # fmt: skip
    # Shown on this response only: the secret is stored as a hash.
    return _tokens_page(request, principal, {"email": email, "token": issued.token,
                                             "expires_at": issued.expires_at})  # fmt: skip


@router.post("/admin/tokens/revoke")
def revoke_token(request: Request, sent: PostedForm) -> Response:
    principal = viewer(request)
    check_csrf(request, sent)
    token_id = str(sent.get("token_id") or "")
    accounts.revoke_tokens(container_of(request).sessions, principal, token_id=token_id)
    return _redirect(f"/admin/tokens?done={quote(f'Token {token_id} revoked')}")


@router.get("/admin/subscribers")
def subscribers_page(request: Request) -> Response:
    principal = viewer(request)
    rows = alerting.subscribers(container_of(request), principal)
    return page(request, "admin/subscribers.html", rows=rows, errors={}, typed={},
                severities=SEVERITIES,
                done=request.query_params.get("done"))  # fmt: skip


@router.post("/admin/subscribers")
def add_subscriber(request: Request, sent: PostedForm) -> Response:
    principal = viewer(request)
    check_csrf(request, sent)
    typed = {k: str(v) for k, v in sent.items() if k != "csrf_token"}
    channel = CHANNELS.get(typed.get("channel", ""))
    container = container_of(request)
    errors: dict[str, str] = {}
    if channel is None:
        errors["channel"] = "Select email or webhook"
    elif not typed.get("address", "").strip():
        errors["address"] = "Enter an email address or a webhook URL"
    else:
        try:
            alerting.subscribe(
                container, principal, channel, typed["address"],
                typed.get("role") or "head_of_capital",
                _member(Severity, typed.get("severity")) or Severity.warning,
            )  # fmt: skip
        except ValueError as error:
            errors["address"] = str(error)
    if errors:
        rows = alerting.subscribers(container, principal)
        return page(request, "admin/subscribers.html", 400, rows=rows, errors=errors,
                    typed=typed, severities=SEVERITIES, done=None)  # fmt: skip
    return _redirect("/admin/subscribers?done=Subscriber+added")


@router.post("/admin/subscribers/remove")
def remove_subscriber(request: Request, sent: PostedForm) -> Response:
    principal = viewer(request)
    check_csrf(request, sent)
    alerting.unsubscribe(container_of(request), principal, str(sent.get("id") or ""))
    return _redirect("/admin/subscribers?done=Subscriber+removed")


# --- errors and mounting -------------------------------------------------------------------


def error_page(request: Request, status_code: int, title: str, detail: str) -> Response:
    return page(request, "error.html", status_code, title=title, detail=detail)


def mount_portal(app: FastAPI) -> None:
    """Serve the portal's pages and assets from the API's app."""
    container: Container = app.state.container
    mount_assets(app, container.settings.web.frontend_modules)
    app.include_router(router)

    @app.exception_handler(SignInNeeded)
    async def sign_in_needed(request: Request, _: SignInNeeded) -> Response:
        # Back to the page asked for once signed in: a link in an alert email, say.
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET" or wanted == "/":
            return _redirect("/sign-in")
        return _redirect(f"/sign-in?{urlencode({'next': wanted})}")

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, _: CsrfRefused) -> Response:
        return error_page(
            request, 403, "The form has expired",
            "The form was not sent from this service's page, or it has expired. Go back, "
            "reload the page and try again.",
        )  # fmt: skip
