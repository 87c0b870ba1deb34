"""The HTTP API in process, on the council's real register, for every role.

One database per module and engine (loading the register is the costly part); a fresh
application per test, so the sign-in throttle of one test does not reach the next. Tests
that change data change their own schemes, alerts and subscribers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import openpyxl
import pypdf
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from capital.api import create_app
from capital.application import accounts
from capital.cli import app as cli
from capital.settings import Settings
from programme.permissions import Role
from projection.tables import AccessToken
from services.reporter.model import ReportKind
from services.reporter.render import FORMATS, Format
from tests.integration.api_world import PASSWORD, TODAY, USERS, World, seeded_world

WEBHOOK_TOKEN = "XoXb9sEcReT4wEbHoOk"
ROLES = list(USERS)
READERS = {"admin", "head_of_capital", "project_manager", "finance"}
HEADS = {"admin", "head_of_capital"}
ADMINS = {"admin"}
NEEDS = {
    frozenset(READERS): "admin or finance or head_of_capital or project_manager",
    frozenset(HEADS): "admin or head_of_capital",
    frozenset(ADMINS): "admin",
}


@pytest.fixture(scope="module")
def world(module_database_url: str) -> Iterator[World]:
    with seeded_world(module_database_url) as seeded:
        yield seeded


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.container)) as test_client:
        yield test_client


@pytest.fixture
def capital(world: World, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """`capital ...` against the same database and clock, the way an operator runs it; its
    stdout."""
    monkeypatch.setenv("CAPITAL_TODAY", TODAY.isoformat())
    monkeypatch.delenv("CAPITAL_ACTOR", raising=False)

    def run(*args: str) -> str:
        result = CliRunner().invoke(
            cli, ["--database-url", world.url, *args], catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        return result.stdout

    return run


def exact(text: str) -> Any:
    """JSON with its numbers as Decimal, so money compares exactly across serializers."""
    return json.loads(text, parse_float=Decimal)


def envelope(
    event_type: str, scheme_id: str, payload: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": event_type,
        "scheme_id": scheme_id,
        "occurred_on": TODAY.isoformat(),
        "payload": payload,
        **fields,
    }


def slip(scheme_id: str, to: dt.date, **fields: Any) -> dict[str, Any]:
    return envelope(
        "completion.revised",
        scheme_id,
        {"anticipated_completion": to.isoformat(), "reason": "contractor delay"},
        **fields,
    )


def history(client: TestClient, world: World, scheme_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/schemes/{scheme_id}", headers=world.bearer("admin"))
    assert response.status_code == 200, response.text
    return response.json()["history"]


# --- who may call what ------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    allowed: frozenset[str]
    succeeds_with: int = 200
    body: dict[str, Any] | None = None
    needs: str | None = None
    """The roles a refusal names, when not exactly those allowed (a user's own tokens)."""

    def send(self, client: TestClient, role: str, headers: dict[str, str]) -> httpx.Response:
        body = None
        if self.body is not None:
            body = json.loads(json.dumps(self.body).replace("{role}", role))
        return client.request(self.method, self.path, json=body, headers=headers)


CALLS = [
    Call("GET", "/api/me", frozenset(ROLES)),
    Call("GET", "/api/schemes", frozenset(READERS)),
    Call("GET", "/api/schemes/CYPE-018", frozenset(READERS)),
    Call("GET", "/api/reports/budget-by-source", frozenset(READERS)),
    Call("GET", "/api/reports/changes?from=2024-07-28", frozenset(READERS)),
    Call("GET", "/api/alerts", frozenset(READERS)),
    Call("POST", "/api/alerts/no-such-alert/ack", frozenset(HEADS), 404),
    Call("POST", "/api/alerts/ack", frozenset(HEADS), 404, body={"alert_ids": ["no-such-alert"]}),
    Call("GET", "/api/subscribers", frozenset(HEADS)),
    Call(
        "POST",
        "/api/subscribers",
        frozenset(HEADS),
        201,
        {"channel": "email", "address": "{role}.matrix@council.example"},
    ),
    Call("DELETE", "/api/subscribers/nobody@council.example", frozenset(HEADS), 404),
    Call("GET", "/api/users", frozenset(ADMINS)),
    Call(
        "POST",
        "/api/users",
        frozenset(ADMINS),
        201,
        {"email": "new.{role}@council.example", "roles": ["finance"]},
    ),
    Call("DELETE", "/api/users/nobody@council.example", frozenset(ADMINS), 404),
    Call("GET", "/api/tokens", frozenset(ADMINS)),
    Call("DELETE", "/api/tokens/0000000000000000", frozenset(ADMINS), 404),
    Call(
        "POST",
        "/api/users/finance@council.example/tokens",
        frozenset(ADMINS | {"finance"}),
        201,
        {"expires_in_days": 1},
        needs="admin",
    ),
]


@pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c.method} {c.path}")
def test_every_endpoint_for_every_role(client: TestClient, world: World, call: Call) -> None:
    unauthenticated = call.send(client, "anonymous", {})
    assert unauthenticated.status_code == 401, unauthenticated.text
    assert unauthenticated.headers["WWW-Authenticate"] == "Bearer"
    for role in ROLES:
        response = call.send(client, role, world.bearer(role))
        if role in call.allowed:
            assert response.status_code == call.succeeds_with, (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            needed = call.needs or NEEDS[call.allowed]
            assert f"needs the role {needed}" in response.json()["detail"], role


def test_health_needs_no_sign_in(client: TestClient) -> None:
    assert client.get("/api/health").json() == {"status": "ok"}


def test_me_names_the_signed_in_user_and_roles(client: TestClient, world: World) -> None:
    response = client.get("/api/me", headers=world.bearer("finance"))
    assert response.json() == {
        "user": "finance@council.example",
        "roles": ["finance"],
        "via": "token",
    }


def _expired(world: World) -> str:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    issued = accounts.issue_token(
        world.container.sessions,
        world.principal("admin"),
        world.email("finance"),
        dt.timedelta(days=1),
        now=lambda: long_ago,
    )
    return issued.token


def _revoked(world: World) -> str:
    issued = accounts.issue_token(
        world.container.sessions, world.principal("admin"), world.email("finance"), None
    )
    accounts.revoke_tokens(
        world.container.sessions, world.principal("admin"), token_id=issued.token_id
    )
    return issued.token


def _forged(world: World) -> str:
    prefix, token_id, secret = world.tokens["finance"].split(".")
    return f"{prefix}.{token_id}.{secret[::-1]}"


BAD_TOKENS: dict[str, Callable[[World], str]] = {
    "expired": _expired,
    "revoked": _revoked,
    "forged": _forged,
    "unknown id": lambda w: "cap.0123456789abcdef." + "x" * 43,
    "malformed": lambda w: "not-a-token",
    "too many parts": lambda w: w.tokens["finance"] + ".extra",
    "too long": lambda w: "cap.abc." + "x" * 500,
    "not ascii": lambda w: "cap.\u00e9t\u00e9.secret",
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_a_bad_token_is_401(client: TestClient, world: World, kind: str) -> None:
    token = BAD_TOKENS[kind](world)
    for path in ("/api/me", "/api/schemes"):
        header = f"Bearer {token}".encode()
        response = client.get(path, headers={"Authorization": header})
        assert response.status_code == 401, (kind, response.text)


@pytest.mark.parametrize("header", ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer ", "cap.x.y"])
def test_an_authorization_header_without_a_bearer_token_is_401(
    client: TestClient, header: str
) -> None:
    assert client.get("/api/me", headers={"Authorization": header}).status_code == 401


def test_a_removed_users_token_stops_working(client: TestClient, world: World) -> None:
    admin = world.principal("admin")
    accounts.add_user(world.container.sessions, admin, "leaver@council.example", [Role.finance])
    issued = accounts.issue_token(world.container.sessions, admin, "leaver@council.example", None)
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert client.get("/api/me", headers=headers).status_code == 200
    removed = client.delete("/api/users/leaver@council.example", headers=world.bearer("admin"))
    assert removed.status_code == 204
    assert client.get("/api/me", headers=headers).status_code == 401


# --- events -----------------------------------------------------------------------------


def test_an_invalid_envelope_is_named_by_item_and_field_and_nothing_is_published(
    client: TestClient, world: World
) -> None:
    good = slip("CYPE-002", dt.date(2025, 3, 31))
    bad = envelope("budget.changed", "CYPE-002", {"amount": "1000", "reason": "uplift"})
    before = history(client, world, "CYPE-002")
    response = client.post("/api/events", json=[good, bad], headers=world.bearer("admin"))
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["item"] == 1
    assert "payload.funding_source" in problem["reason"]
    assert history(client, world, "CYPE-002") == before


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        b"[]",
        b"null",
        b"42",
        b'"text"',
        b"\xff\xfe\x00",
        b"[" * 5000,
        b'{"type": "scheme.registered"}',
        b"[[1, 2]]",
        b'{"payload": ' * 100 + b"1" + b"}" * 100,
        b"1" * 5000,
    ],
    ids=lambda b: repr(b[:20]),
)
def test_a_malformed_body_is_refused_never_a_server_error(
    client: TestClient, world: World, body: bytes
) -> None:
    response = client.post(
        "/api/events",
        content=body,
        headers={**world.bearer("admin"), "Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422), response.text
    assert response.json()["detail"]


def test_the_actor_is_the_signed_in_user(client: TestClient, world: World) -> None:
    event = slip("CYPE-003", dt.date(2025, 6, 30))
    response = client.post("/api/events", json=event, headers=world.bearer("head_of_capital"))
    assert response.status_code == 200, response.text
    assert response.json()["published"][0]["event_id"] == event["event_id"]
    recorded = history(client, world, "CYPE-003")[-1]
    assert recorded["event_id"] == event["event_id"]
    assert (recorded["actor"], recorded["recorded_by"]) == (world.email("head_of_capital"), None)


def test_naming_another_actor_is_refused_unless_admin(client: TestClient, world: World) -> None:
    someone_else = slip("CYPE-007", dt.date(2025, 9, 30), actor=world.email("project_manager"))
    refused = client.post("/api/events", json=someone_else, headers=world.bearer("head_of_capital"))
    assert refused.status_code == 403
    assert "names actor 'pm@council.example'" in refused.json()["detail"]
    assert someone_else["event_id"] not in [
        e["event_id"] for e in history(client, world, "CYPE-007")
    ]

    accepted = client.post("/api/events", json=someone_else, headers=world.bearer("admin"))
    assert accepted.status_code == 200, accepted.text
    recorded = history(client, world, "CYPE-007")[-1]
    assert recorded["event_id"] == someone_else["event_id"]
    assert recorded["actor"] == world.email("project_manager")
    assert recorded["recorded_by"] == world.email("admin")


def test_a_claimed_recorded_by_is_replaced_by_who_sent_it(client: TestClient, world: World) -> None:
    event = slip("CYPE-016", dt.date(2025, 7, 31), recorded_by="someone.trusted")
    response = client.post("/api/events", json=event, headers=world.bearer("head_of_capital"))
    assert response.status_code == 200, response.text
    recorded = history(client, world, "CYPE-016")[-1]
    assert (recorded["actor"], recorded["recorded_by"]) == (world.email("head_of_capital"), None)


def test_the_same_event_twice_changes_nothing(client: TestClient, world: World) -> None:
    event = slip("CYPE-023", dt.date(2025, 8, 29))
    headers = world.bearer("head_of_capital")
    assert client.post("/api/events", json=event, headers=headers).status_code == 200
    board = client.get("/api/schemes", headers=headers).json()
    before = history(client, world, "CYPE-023")
    again = client.post("/api/events", json=[event, event], headers=headers)
    assert again.status_code == 200, again.text
    assert history(client, world, "CYPE-023") == before
    assert client.get("/api/schemes", headers=headers).json() == board


def test_an_event_id_reused_for_a_different_event_is_refused(
    client: TestClient, world: World
) -> None:
    event = slip("CYPE-028", dt.date(2025, 1, 31))
    headers = world.bearer("head_of_capital")
    assert client.post("/api/events", json=event, headers=headers).status_code == 200
    changed = {**event, "payload": {**event["payload"], "anticipated_completion": "2026-01-30"}}
    response = client.post("/api/events", json=changed, headers=headers)
    assert response.status_code == 422
    assert "already used for a different event" in response.json()["refused"][0]["reason"]


@pytest.mark.parametrize(
    ("role", "event_type", "payload", "allowed"),
    [
        ("project_manager", "progress.reported", {"note": "walls up"}, True),
        (
            "project_manager",
            "budget.changed",
            {"funding_source": "Basic Need", "amount": "1000", "reason": "uplift"},
            False,
        ),
        (
            "finance",
            "budget.changed",
            {"funding_source": "Basic Need", "amount": "1000", "reason": "uplift"},
            True,
        ),
        ("finance", "scheme.on_hold", {"reason": "planning"}, False),
        ("no_role", "progress.reported", {"note": "walls up"}, False),
    ],
)
def test_who_may_post_which_event(
    client: TestClient,
    world: World,
    role: str,
    event_type: str,
    payload: dict[str, Any],
    allowed: bool,
) -> None:
    event = envelope(event_type, "CYPE-018", payload)
    response = client.post("/api/events", json=event, headers=world.bearer(role))
    if allowed:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 403, response.text
        assert f"may not record {event_type}" in response.json()["detail"]


# --- size limits ------------------------------------------------------------------------

LIMIT = Settings().web.max_body_bytes


@pytest.mark.parametrize("path", ["/api/events", "/api/subscribers", "/api/alerts/ack"])
def test_an_oversized_body_is_413_with_a_length(
    client: TestClient, world: World, path: str
) -> None:
    body = b'{"x": "' + b"a" * LIMIT + b'"}'
    response = client.post(
        path, content=body, headers={**world.bearer("admin"), "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert str(LIMIT) in response.json()["detail"]


@pytest.mark.parametrize("path", ["/api/events", "/api/subscribers", "/api/alerts/ack"])
def test_an_oversized_body_is_413_when_chunked(client: TestClient, world: World, path: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"x": "'
        for _ in range(LIMIT // 65536 + 2):
            yield b"a" * 65536
        yield b'"}'

    response = client.post(
        path,
        content=chunks(),
        headers={**world.bearer("admin"), "Content-Type": "application/json"},
    )
    assert response.status_code == 413, response.text


# --- the programme ----------------------------------------------------------------------


def test_the_board_is_the_rows_of_capital_schemes(
    client: TestClient, world: World, capital: Callable[..., str]
) -> None:
    for query, flags in [
        ({}, []),
        ({"today": "2025-03-31"}, ["--today", "2025-03-31"]),
        ({"as_of": "2024-07-28"}, ["--as-of", "2024-07-28"]),
        (
            {"as_of": "2024-07-29", "today": "2024-12-31"},
            ["--as-of", "2024-07-29", "--today", "2024-12-31"],
        ),
    ]:
        response = client.get("/api/schemes", params=query, headers=world.bearer("finance"))
        assert response.status_code == 200
        expected = exact(capital("schemes", "--format", "json", *flags))
        assert exact(response.text)["data"] == expected, query
    assert len(expected) >= 41


def registration(scheme_id: str, programme: str, manager: str, source: str) -> dict[str, Any]:
    return envelope(
        "scheme.registered",
        scheme_id,
        {
            "title": f"New school places {scheme_id}",
            "budget": "250000.00",
            "funding": [{"source": source, "amount": "250000.00"}],
            "baseline_completion": "2025-08-29",
            "programme": programme,
            "project_manager": manager,
        },
    )


def test_the_board_filters(client: TestClient, world: World, capital: Callable[..., str]) -> None:
    posted = client.post(
        "/api/events",
        headers=world.bearer("head_of_capital"),
        json=[
            registration("FILTER-1", "SEND Places", world.email("project_manager"), "Basic Need"),
            registration("FILTER-2", "Condition", "someone.else@council.example", "Salix"),
        ],
    )
    assert posted.status_code == 200, posted.text
    every = exact(capital("schemes", "--format", "json"))
    details = {
        row["scheme_id"]: client.get(
            f"/api/schemes/{row['scheme_id']}", headers=world.bearer("finance")
        ).json()["scheme"]
        for row in every
    }

    def funded_by(source: str) -> Callable[[dict[str, Any]], bool]:
        return lambda row: any(f["source"] == source for f in details[row["scheme_id"]]["funding"])

    criteria: list[tuple[dict[str, str], Callable[[dict[str, Any]], bool]]] = [
        ({"rag": "red"}, lambda row: row["overall_rag"] == "red"),
        ({"rag": "green"}, lambda row: row["overall_rag"] == "green"),
        ({"status": "on_site"}, lambda row: row["status"] == "on_site"),
        ({"programme": "send PLACES"}, lambda row: row["scheme_id"] == "FILTER-1"),
        ({"funding_source": "policy provision"}, funded_by("Policy Provision")),
        ({"funding_source": "Salix"}, funded_by("Salix")),
        ({"project_manager": "PM@council.example"}, lambda row: row["scheme_id"] == "FILTER-1"),
        ({"q": "cype-01"}, lambda row: "CYPE-01" in row["scheme_id"]),
        ({"q": "school places"}, lambda row: row["scheme_id"].startswith("FILTER-")),
        ({"q": "zzz-nothing"}, lambda row: False),
        (
            {"rag": "red", "status": "on_site"},
            lambda row: row["overall_rag"] == "red" and row["status"] == "on_site",
        ),
    ]
    for query, admits in criteria:
        response = client.get("/api/schemes", params=query, headers=world.bearer("finance"))
        assert response.status_code == 200, query
        body = exact(response.text)
        wanted = [row for row in every if admits(row)]
        assert body["data"] == wanted, query
        assert body["count"] == len(wanted)
        assert wanted or query["q"] == "zzz-nothing", f"{query} selects nothing: a weak check"


@pytest.mark.parametrize(
    "query",
    [
        {"rag": "purple"},
        {"status": "dreaming"},
        {"as_of": "yesterday"},
        {"today": "2024-13-01"},
        {"q": "x" * 201},
    ],
)
def test_a_bad_board_filter_is_422_naming_it(
    client: TestClient, world: World, query: dict[str, str]
) -> None:
    response = client.get("/api/schemes", params=query, headers=world.bearer("finance"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", next(iter(query))]


def test_one_scheme_and_an_unknown_one(client: TestClient, world: World) -> None:
    response = client.get("/api/schemes/CYPE-018", headers=world.bearer("project_manager"))
    assert response.status_code == 200
    body = response.json()
    assert body["scheme"]["scheme_id"] == "CYPE-018"
    assert body["history"][0]["type"] == "scheme.registered"
    missing = client.get("/api/schemes/CYPE-999", headers=world.bearer("project_manager"))
    assert missing.status_code == 404
    assert "CYPE-999" in missing.json()["detail"]


# --- alerts -----------------------------------------------------------------------------


def test_alerts_acknowledged_one_and_many(client: TestClient, world: World) -> None:
    head = world.bearer("head_of_capital")
    open_alerts = client.get("/api/alerts", params={"unacknowledged": "true"}, headers=head)
    assert open_alerts.status_code == 200
    rows = open_alerts.json()["data"]
    assert len(rows) >= 4, "the morning sweep of the pack's date raises overdue alerts"
    assert not any(row["acknowledged"] for row in rows)
    one, two, three = (row["alert_id"] for row in rows[:3])

    refused = client.post(f"/api/alerts/{one}/ack", headers=world.bearer("project_manager"))
    assert refused.status_code == 403
    assert "needs the role admin or head_of_capital" in refused.json()["detail"]

    done = client.post(f"/api/alerts/{one}/ack", headers=head)
    assert done.status_code == 200, done.text
    [acknowledged] = done.json()["acknowledged"]
    assert (acknowledged["alert_id"], acknowledged["acknowledged_by"]) == (
        one,
        world.email("head_of_capital"),
    )

    # All or none: an id naming no alert acknowledges nothing.
    mistyped = client.post(
        "/api/alerts/ack", json={"alert_ids": [two, three, "nothing-here"]}, headers=head
    )
    assert mistyped.status_code == 404
    assert "nothing-here" in mistyped.json()["detail"]
    many = client.post("/api/alerts/ack", json={"alert_ids": [two, three]}, headers=head)
    assert many.status_code == 200
    assert sorted(a["alert_id"] for a in many.json()["acknowledged"]) == sorted([two, three])

    still_open = client.get("/api/alerts", params={"unacknowledged": "true"}, headers=head)
    assert {one, two, three}.isdisjoint(row["alert_id"] for row in still_open.json()["data"])
    assert len(still_open.json()["data"]) == len(rows) - 3
    everything = client.get("/api/alerts", headers=head).json()["data"]
    assert {row["alert_id"] for row in everything if row["acknowledged"]} >= {one, two, three}


def test_alerts_filtered_by_scheme_and_date(client: TestClient, world: World) -> None:
    headers = world.bearer("finance")
    every = client.get("/api/alerts", headers=headers).json()["data"]
    scheme = every[0]["scheme_id"]
    mine = client.get("/api/alerts", params={"scheme_id": scheme}, headers=headers).json()
    assert mine["data"] == [row for row in every if row["scheme_id"] == scheme]
    later = client.get("/api/alerts", params={"since": "2099-01-01"}, headers=headers).json()
    assert later == {"count": 0, "data": []}


# --- reports ----------------------------------------------------------------------------

REPORTS = [(kind, fmt) for kind in ReportKind for fmt in FORMATS[kind] if fmt is not Format.table]
NOT_OFFERED = [(kind, fmt) for kind in ReportKind for fmt in Format if fmt not in FORMATS[kind]] + [
    (kind, Format.table) for kind in ReportKind
]


def report_as_finance(
    client: TestClient, world: World, kind: ReportKind, fmt: Format
) -> httpx.Response:
    # The changes report is between two dates: since the day before the import.
    period = {"from": "2024-07-28"} if kind is ReportKind.changes else {}
    return client.get(
        f"/api/reports/{kind.value}",
        params={"format": fmt.value, **period},
        headers=world.bearer("finance"),
    )


@pytest.mark.parametrize(("kind", "fmt"), REPORTS, ids=lambda v: v.value)
def test_every_report_in_every_format(
    client: TestClient, world: World, kind: ReportKind, fmt: Format
) -> None:
    response = report_as_finance(client, world, kind, fmt)
    assert response.status_code == 200, response.text
    content = response.content
    if fmt is Format.json:
        assert response.headers["content-type"].startswith("application/json")
        assert json.loads(content)
    elif fmt is Format.csv:
        rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
        assert len(rows) > 2
    elif fmt is Format.xlsx:
        workbook = openpyxl.load_workbook(io.BytesIO(content))
        assert workbook.sheetnames
    elif fmt is Format.pdf:
        assert len(pypdf.PdfReader(io.BytesIO(content)).pages) >= 1
    else:
        assert b"<html" in content.lower()
    assert f"capital-{kind.value}.{fmt.value}" in response.headers["content-disposition"]


@pytest.mark.parametrize(("kind", "fmt"), NOT_OFFERED, ids=lambda v: v.value)
def test_a_format_a_report_does_not_come_in_is_422(
    client: TestClient, world: World, kind: ReportKind, fmt: Format
) -> None:
    response = report_as_finance(client, world, kind, fmt)
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["query", "format"]
    assert problem["msg"].endswith(f"not {fmt.value}")


def test_the_json_report_is_the_command_lines(
    client: TestClient, world: World, capital: Callable[..., str]
) -> None:
    for flags in ([], ["--as-of", "2024-07-29", "--today", "2025-01-31"]):
        params = dict(zip([f[2:].replace("-", "_") for f in flags[::2]], flags[1::2], strict=True))
        response = client.get(
            "/api/reports/budget-by-source",
            params={"format": "json", **params},
            headers=world.bearer("finance"),
        )
        assert response.status_code == 200
        expected = exact(capital("report", "budget-by-source", "--format", "json", *flags))
        assert exact(response.text) == expected


def test_the_changes_report_is_the_command_lines_and_names_a_wrong_date(
    client: TestClient, world: World, capital: Callable[..., str]
) -> None:
    finance = world.bearer("finance")
    response = client.get("/api/reports/changes", params={"from": "2024-07-28"}, headers=finance)
    assert response.status_code == 200, response.text
    assert exact(response.text) == exact(
        capital("report", "changes", "--from", "2024-07-28", "--format", "json")
    )
    # The register was imported on 29 July: every scheme is new since the day before
    # (other tests of this module add a few of their own).
    added = {s["scheme_id"] for s in response.json()["schemes"] if s["added"]}
    assert {f"CYPE-{number:03d}" for number in range(1, 42)} <= added
    for params, field, message in (
        ({"from": "2024-07-29", "to": "2024-07-01"}, "from", "from 2024-07-29 is after to"),
        ({"from": "2024-07-01", "to": "2024-08-01"}, "to", "is after today (2024-07-29)"),
    ):
        refused = client.get("/api/reports/changes", params=params, headers=finance)
        assert refused.status_code == 422, refused.text
        [problem] = refused.json()["detail"]
        assert problem["loc"] == ["query", field] and message in problem["msg"]
    pack = client.get(
        "/api/reports/pack",
        params={"format": "html", "as_of": "2024-07-29", "since": "2024-07-28"},
        headers=finance,
    )
    assert "Changes since the last committee" in pack.text
    assert f"{len(added)} schemes added" in pack.text


def test_an_unknown_report_is_422(client: TestClient, world: World) -> None:
    response = client.get("/api/reports/gossip", headers=world.bearer("finance"))
    assert response.status_code == 422


# --- subscribers ------------------------------------------------------------------------


def test_subscribers_added_listed_and_removed_webhook_never_in_clear(
    client: TestClient, world: World
) -> None:
    head = world.bearer("head_of_capital")
    hook = f"https://hooks.example.org/services/T0/B0/{WEBHOOK_TOKEN}"
    email = client.post(
        "/api/subscribers",
        headers=head,
        json={"channel": "email", "address": "Ops.Team@Council.example"},
    )
    assert email.status_code == 201, email.text
    webhook = client.post(
        "/api/subscribers",
        headers=head,
        json={
            "channel": "webhook",
            "address": hook,
            "severity": "critical",
            "schemes": ["CYPE-018", "CYPE-000"],
        },
    )
    assert webhook.status_code == 201, webhook.text
    assert webhook.json()["unknown_schemes"] == ["CYPE-000"]
    listed = client.get("/api/subscribers", headers=head)
    removed = client.delete(f"/api/subscribers/{webhook.json()['subscriber']['id']}", headers=head)
    assert removed.status_code == 200, removed.text
    for response in (webhook, listed, removed):
        assert WEBHOOK_TOKEN not in response.text
    addresses = [row["address"] for row in listed.json()["data"]]
    assert "ops.team@council.example" in [a.lower() for a in addresses]
    after = client.get("/api/subscribers", headers=head).json()["data"]
    assert webhook.json()["subscriber"]["id"] not in [row["id"] for row in after]
    gone = client.delete(f"/api/subscribers/{webhook.json()['subscriber']['id']}", headers=head)
    assert gone.status_code == 404

    finance = world.bearer("finance")
    for response in (
        client.get("/api/subscribers", headers=finance),
        client.post(
            "/api/subscribers", headers=finance, json={"channel": "webhook", "address": hook}
        ),
        client.delete("/api/subscribers/ops.team@council.example", headers=finance),
    ):
        assert response.status_code == 403
        assert "needs the role admin or head_of_capital" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "email", "address": "not an address"}, "address"),
        ({"channel": "webhook", "address": "ftp://example.org/hook"}, "address"),
        ({"channel": "email", "address": "a@council.example", "role": "chief!"}, "role"),
        ({"channel": "pigeon", "address": "x@council.example"}, "channel"),
        ({"channel": "email"}, "address"),
    ],
)
def test_a_bad_subscriber_is_422_naming_the_field(
    client: TestClient, world: World, body: dict[str, str], field: str
) -> None:
    response = client.post("/api/subscribers", json=body, headers=world.bearer("head_of_capital"))
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", field]
    assert problem["msg"]


# --- users and tokens -------------------------------------------------------------------


def test_users_and_tokens_by_an_administrator(client: TestClient, world: World) -> None:
    admin = world.bearer("admin")
    added = client.post(
        "/api/users",
        headers=admin,
        json={
            "email": "New.Starter@Council.example",
            "roles": ["project_manager"],
            "password": "a long enough password",
        },
    )
    assert added.status_code == 201, added.text
    assert added.json()["name"] == "new.starter@council.example"
    assert added.json()["password"] is True
    issued = client.post(
        "/api/users/new.starter@council.example/tokens", headers=admin, json={"expires_in_days": 7}
    )
    assert issued.status_code == 201
    token = issued.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/me", headers=headers).json()["roles"] == ["project_manager"]
    users = client.get("/api/users", headers=admin).json()["data"]
    assert "new.starter@council.example" in [u["name"] for u in users]
    tokens = client.get("/api/tokens", headers=admin).json()["data"]
    assert issued.json()["token_id"] in [t["token_id"] for t in tokens]
    assert (
        client.delete(f"/api/tokens/{issued.json()['token_id']}", headers=admin).status_code == 204
    )
    assert client.get("/api/me", headers=headers).status_code == 401

    short = client.post(
        "/api/users",
        headers=admin,
        json={"email": "x@council.example", "roles": [], "password": "short"},
    )
    assert short.status_code == 422
    [problem] = short.json()["detail"]
    assert problem["loc"] == ["body", "password"]
    assert "12 characters" in problem["msg"]
    not_a_name = client.delete("/api/users/two%20words", headers=admin)
    assert not_a_name.status_code == 422
    assert not_a_name.json()["detail"][0]["loc"] == ["path", "email"]
    unknown = client.post("/api/users/ghost@council.example/tokens", headers=admin, json={})
    assert unknown.status_code == 404


def test_a_user_may_issue_and_revoke_their_own_tokens_only(
    client: TestClient, world: World
) -> None:
    finance = world.bearer("finance")
    mine = client.post(f"/api/users/{world.email('finance')}/tokens", headers=finance, json={})
    assert mine.status_code == 201
    theirs = client.post(
        f"/api/users/{world.email('project_manager')}/tokens", headers=finance, json={}
    )
    assert theirs.status_code == 403
    pm_token_id = world.tokens["project_manager"].split(".")[1]
    assert client.delete(f"/api/tokens/{pm_token_id}", headers=finance).status_code == 403
    assert (
        client.delete(f"/api/tokens/{mine.json()['token_id']}", headers=finance).status_code == 204
    )


# --- signing in with a password ---------------------------------------------------------


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return client.post("/api/auth/sign-in", json={"email": email, "password": password})


def test_a_session_cookie_needs_the_csrf_token_to_write(client: TestClient, world: World) -> None:
    response = sign_in(client, "HEAD@council.example")
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("capital_session=cap.")
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    csrf = response.json()["csrf_token"]
    session = client.cookies["capital_session"]

    assert client.get("/api/me").json()["via"] == "session"
    subscriber = {"channel": "email", "address": "csrf.check@council.example"}
    missing = client.post("/api/subscribers", json=subscriber)
    assert missing.status_code == 403
    assert "CSRF" in missing.json()["detail"]
    forged = client.post("/api/subscribers", json=subscriber, headers={"X-CSRF-Token": csrf[::-1]})
    assert forged.status_code == 403
    done = client.post("/api/subscribers", json=subscriber, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 201, done.text

    assert client.post("/api/auth/sign-out").status_code == 403
    assert client.post("/api/auth/sign-out", headers={"X-CSRF-Token": csrf}).status_code == 204
    client.cookies.clear()
    replay = client.get("/api/me", headers={"Cookie": f"capital_session={session}"})
    assert replay.status_code == 401


def test_a_session_token_is_not_taken_as_an_api_token_of_someone_else(
    client: TestClient, world: World
) -> None:
    response = sign_in(client, world.email("finance"))
    client.cookies.clear()
    cookie_of_api_token = client.get(
        "/api/me", headers={"Cookie": f"capital_session={world.tokens['finance']}"}
    )
    assert cookie_of_api_token.status_code == 401
    assert response.status_code == 200


def test_an_api_token_by_password(client: TestClient, world: World) -> None:
    response = client.post(
        "/api/auth/token",
        json={"email": world.email("project_manager"), "password": PASSWORD, "expires_in_days": 1},
    )
    assert response.status_code == 200
    token = response.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/me", headers=headers).json()["via"] == "token"
    assert client.post("/api/auth/sign-out", headers=headers).status_code == 204
    assert client.get("/api/me", headers=headers).status_code == 401


def test_sign_in_is_throttled_and_failures_are_logged_without_the_password(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "Wrong-Password-1234"
    caplog.set_level(logging.DEBUG)
    for _ in range(5):
        assert sign_in(client, world.email("finance"), wrong).status_code == 401
    throttled = sign_in(client, world.email("finance"))
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0
    assert "failed sign-in for 'finance@council.example'" in caplog.text
    assert wrong not in caplog.text
    assert PASSWORD not in caplog.text


def test_one_persons_failures_do_not_lock_out_colleagues_at_the_same_address(
    client: TestClient, world: World
) -> None:
    for _ in range(5):
        assert sign_in(client, world.email("finance"), "Wrong-Password-1234").status_code == 401
    assert sign_in(client, world.email("finance")).status_code == 429
    assert sign_in(client, world.email("project_manager")).status_code == 200
    # One address trying account after account is stopped all the same.
    for attempt in range(45):
        sign_in(client, f"guess{attempt}@council.example", "Wrong-Password-1234")
    assert sign_in(client, world.email("head_of_capital")).status_code == 429


def test_wrong_email_and_wrong_password_are_not_told_apart(
    client: TestClient, world: World
) -> None:
    unknown = sign_in(client, "nobody@council.example")
    wrong = sign_in(client, world.email("admin"), "not the password at all")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_single_sign_on_is_404_when_not_set_up(client: TestClient) -> None:
    assert client.get("/auth/sso/login", follow_redirects=False).status_code == 404
    assert client.get("/auth/sso/callback", follow_redirects=False).status_code == 404


# --- secrets ----------------------------------------------------------------------------


def test_no_secret_is_ever_in_a_response_or_the_log(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin, head = world.bearer("admin"), world.bearer("head_of_capital")
    hook = f"https://chat.example.org/hooks/{WEBHOOK_TOKEN}"
    responses = [
        sign_in(client, world.email("admin")),
        client.post("/api/subscribers", headers=head, json={"channel": "webhook", "address": hook}),
        client.post(
            "/api/users",
            headers=admin,
            json={"email": "secretive@council.example", "roles": ["finance"], "password": PASSWORD},
        ),
    ]
    client.cookies.clear()
    responses += [
        client.request(call.method, call.path, headers=admin)
        for call in CALLS
        if call.method == "GET"
    ] + [client.get(path, headers=admin) for path in ("/api/alerts", "/openapi.json")]
    with world.container.sessions() as session:
        hashes = [row.secret_hash for row in session.exec(select(AccessToken))]
    secrets = [PASSWORD, WEBHOOK_TOKEN, *hashes, *(t.split(".")[2] for t in world.tokens.values())]
    for response in responses:
        for secret in secrets:
            assert secret not in response.text, (response.request.url, secret[:6])
    for secret in secrets:
        assert secret not in caplog.text


# --- the whole path ---------------------------------------------------------------------


def test_a_head_of_capital_with_a_command_line_token_posts_a_slip(
    client: TestClient, world: World, capital: Callable[..., str]
) -> None:
    token = capital(
        "--actor",
        world.email("admin"),
        "users",
        "token",
        world.email("head_of_capital"),
        "--expires-in-days",
        "1",
    ).strip()
    assert token.startswith("cap.")
    headers = {"Authorization": f"Bearer {token}"}
    before = {r["scheme_id"]: r for r in client.get("/api/schemes", headers=headers).json()["data"]}
    scheme = "CYPE-018"
    later = dt.date.fromisoformat(before[scheme]["anticipated_completion"]) + dt.timedelta(days=90)
    posted = client.post("/api/events", json=slip(scheme, later), headers=headers)
    assert posted.status_code == 200, posted.text
    after = client.get("/api/schemes", params={"q": scheme}, headers=headers).json()["data"]
    [row] = [r for r in after if r["scheme_id"] == scheme]
    assert row["anticipated_completion"] == later.isoformat()
    assert row["slippage_days"] == (later - dt.date.fromisoformat(row["baseline_completion"])).days

    override = envelope(
        "rag.overridden",
        scheme,
        {"which": "overall", "value": "green", "reason": "looks fine to me"},
    )
    refused = client.post("/api/events", json=override, headers=world.bearer("project_manager"))
    assert refused.status_code == 403
    assert "may not record rag.overridden" in refused.json()["detail"]
    assert (
        client.get(f"/api/schemes/{scheme}", headers=headers).json()["history"][-1]["event_id"]
        != override["event_id"]
    )


# --- inputs found by fuzzing ------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/schemes/CYPE%00", None),
        ("GET", "/api/schemes?q=%00", None),
        ("GET", "/api/alerts?scheme_id=%00", None),
        ("DELETE", "/api/tokens/%00", None),
        ("DELETE", "/api/subscribers/%00", None),
        ("POST", "/api/alerts/%00%00%00%00/ack", None),
        ("POST", "/api/alerts/ack", {"alert_ids": ["\x00abc"]}),
        ("POST", "/api/subscribers", {"channel": "webhook", "address": "https://a.example/\x00"}),
        ("POST", "/api/subscribers", {"channel": "email", "address": "a\x00@council.example"}),
        (
            "POST",
            "/api/subscribers",
            {"channel": "email", "address": "a@b.example", "schemes": ["CYPE-001\x00"]},
        ),
        ("POST", "/api/events", slip("CYPE-001", TODAY, actor="admin\x00")),
        (
            "POST",
            "/api/events",
            envelope("snagging.raised", "CYPE-001", {"snag_id": "S\x00", "description": "door"}),
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_nul_character_is_refused_never_a_server_error(
    client: TestClient, world: World, method: str, path: str, body: Any
) -> None:
    response = client.request(method, path, json=body, headers=world.bearer("admin"))
    assert response.status_code == 422, response.text
    # Named as the API's inputs name it, or as the event contract does.
    assert "NUL character" in response.text or "control character (U+0000)" in response.text


def test_a_recorded_at_out_of_range_or_in_the_future_is_refused(
    client: TestClient, world: World
) -> None:
    headers = world.bearer("admin")
    extreme = slip("CYPE-001", TODAY, recorded_at="9999-12-31T23:59:59-23:59")
    response = client.post("/api/events", json=extreme, headers=headers)
    assert response.status_code == 422
    assert "cannot be represented" in response.json()["detail"][0]["reason"]
    ahead = slip("CYPE-001", TODAY, recorded_at="2030-01-01T09:00:00+00:00")
    response = client.post("/api/events", json=ahead, headers=headers)
    assert response.status_code == 422
    assert "recorded_at 2030-01-01T09:00:00+00:00 is in the future" in response.text
    later = slip("CYPE-001", dt.date(2025, 2, 28))
    assert client.post("/api/events", json=later, headers=headers).status_code == 200


def test_the_pack_charts_a_date_at_the_end_of_the_calendar(
    client: TestClient, world: World
) -> None:
    """A date at the edge of what the product accepts is charted; one beyond it is
    refused when recorded, so nothing downstream meets it."""
    beyond = slip("CYPE-004", dt.date(9999, 12, 31))
    assert client.post("/api/events", json=beyond, headers=world.bearer("admin")).status_code == 422
    far = slip("CYPE-004", dt.date(2100, 12, 31))
    assert client.post("/api/events", json=far, headers=world.bearer("admin")).status_code == 200
    for today in ("9999-12-31", "0001-01-01", "2100-12-31"):
        response = client.get(
            "/api/reports/pack",
            params={"format": "html", "today": today},
            headers=world.bearer("finance"),
        )
        assert response.status_code == 200, today
        assert response.text.count("<line") < 400, "one line a year would be thousands"


def test_an_invalid_input_is_not_echoed_back(client: TestClient, world: World) -> None:
    long_password = PASSWORD * 50
    too_long = client.post(
        "/api/auth/sign-in", json={"email": world.email("admin"), "password": long_password}
    )
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"] == ["body", "password"]
    assert PASSWORD not in too_long.text
    hook = f"https://hooks.example.org/{WEBHOOK_TOKEN}/" + "x" * 2000
    response = client.post(
        "/api/subscribers",
        json={"channel": "webhook", "address": hook},
        headers=world.bearer("head_of_capital"),
    )
    assert response.status_code == 422
    assert WEBHOOK_TOKEN not in response.text


def test_an_amount_is_read_exactly_never_through_a_float(client: TestClient, world: World) -> None:
    """1000.00000000000000001 is 1000.0 as a float, but it is not an amount in pence."""
    headers = {**world.bearer("finance"), "Content-Type": "application/json"}
    template = json.dumps(
        envelope(
            "budget.changed",
            "CYPE-005",
            {"funding_source": "Basic Need", "amount": "AMOUNT", "reason": "uplift"},
        )
    )
    inexact = template.replace('"AMOUNT"', "1000.00000000000000001")
    response = client.post("/api/events", content=inexact, headers=headers)
    assert response.status_code == 422
    assert "payload.amount" in response.json()["detail"][0]["reason"]
    exact_pence = template.replace('"AMOUNT"', "1234.56")
    assert client.post("/api/events", content=exact_pence, headers=headers).status_code == 200
    funding = client.get("/api/schemes/CYPE-005", headers=headers).json()["scheme"]["funding"]
    assert "Basic Need" in [line["source"] for line in funding]
