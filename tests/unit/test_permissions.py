"""Who may record what, and the users that turn the checks on."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from capital.application.principal import OPERATIONS, Operation
from capital.bootstrap import Container
from capital.cli import app
from events import EventType
from programme.permissions import Role, may_record, refusal
from services.notifier.store import SweepRun
from tests.builders import event, registered
from tests.conftest import SAMPLE_PROGRAMME


@pytest.mark.parametrize(
    ("role", "event_type", "allowed"),
    [
        (Role.project_manager, EventType.completion_revised, True),
        (Role.project_manager, EventType.snagging_raised, True),
        (Role.project_manager, EventType.rag_overridden, False),
        (Role.project_manager, EventType.scheme_rebaselined, False),
        (Role.project_manager, EventType.budget_changed, False),
        (Role.project_manager, EventType.scheme_registered, False),
        (Role.finance, EventType.budget_changed, True),
        (Role.finance, EventType.forecast_revised, True),
        (Role.finance, EventType.completion_revised, False),
        (Role.head_of_capital, EventType.rag_overridden, True),
        (Role.head_of_capital, EventType.scheme_cancelled, True),
        (Role.admin, EventType.scheme_registered, True),
        (Role.project_manager, EventType.scheme_amended, False),
        (Role.finance, EventType.scheme_amended, False),
        (Role.head_of_capital, EventType.scheme_amended, True),
        (Role.admin, EventType.scheme_amended, True),
        (Role.project_manager, EventType.budget_transferred, False),
        (Role.finance, EventType.budget_transferred, True),
        (Role.head_of_capital, EventType.budget_transferred, True),
    ],
)
def test_roles_decide_which_events_a_user_may_record(role, event_type, allowed):
    assert may_record(frozenset({role}), event_type) is allowed


def test_a_refusal_names_the_user_their_roles_and_what_would_do():
    message = refusal("pm.alice", frozenset({Role.project_manager}), EventType.rag_overridden)
    assert message == (
        "pm.alice (project_manager) may not record rag.overridden: "
        "it needs one of admin, head_of_capital"
    )


@pytest.fixture
def capital(sqlite_url, monkeypatch):
    monkeypatch.setenv("CAPITAL_DATABASE_URL", sqlite_url)
    runner = CliRunner()

    def run(actor: str, *args: str):
        return runner.invoke(app, ["--actor", actor, *args], catch_exceptions=False)

    return run


def test_anyone_may_record_until_the_first_user_is_registered(capital):
    assert capital("someone", "publish", str(SAMPLE_PROGRAMME)).exit_code == 0


def test_the_first_user_must_be_an_admin(capital):
    refused = capital("alice", "users", "add", "alice", "--role", "project_manager")
    assert refused.exit_code == 3
    assert "the first user registered must be an admin" in refused.stderr
    assert capital("root", "users", "add", "root", "--role", "admin").exit_code == 0


def test_once_users_exist_every_write_needs_a_role_that_may_make_it(capital, tmp_path):
    capital("root", "users", "add", "root", "--role", "admin")
    capital("root", "users", "add", "pm.alice", "--role", "project_manager")
    capital("root", "users", "add", "fin.bob", "--role", "finance")
    capital("root", "publish", str(SAMPLE_PROGRAMME))

    slipped = capital(
        "pm.alice",
        "log",
        "completion.revised",
        "--scheme",
        "CYPE-028",
        "--anticipated-completion",
        "2023-03-20",
        "--reason",
        "late delivery",
    )
    assert slipped.exit_code == 0, slipped.stderr

    overridden = capital(
        "pm.alice",
        "log",
        "rag.overridden",
        "--scheme",
        "CYPE-028",
        "--which",
        "overall",
        "--value",
        "green",
        "--reason",
        "looks fine",
    )
    assert overridden.exit_code == 1
    assert "pm.alice (project_manager) may not record rag.overridden" in overridden.stderr

    file = tmp_path / "mixed.jsonl"
    file.write_text(
        "\n".join(
            [
                event(
                    "budget.changed",
                    "2023-03-01",
                    "CYPE-028",
                    funding_source="CCIP6",
                    amount="500",
                    reason="variation",
                    actor=None,
                )
                .model_copy(update={"recorded_at": None})  # stamped when published
                .model_dump_json(),
                registered("CYPE-999", actor=None).model_dump_json(),
                event(
                    "forecast.revised",
                    "2023-03-01",
                    "CYPE-028",
                    forecast_outturn="99000",
                    actor="fin.carol",
                ).model_dump_json(),
            ]
        )
        + "\n"
    )
    mixed = capital("fin.bob", "publish", str(file))
    assert mixed.exit_code == 1
    assert f"{file}:2: fin.bob (finance) may not record scheme.registered" in mixed.stderr
    assert f"{file}:3: the event names actor 'fin.carol' but fin.bob is publishing it" in (
        mixed.stderr
    )
    assert "published 1 event(s); refused 2 line(s)" in mixed.stdout

    stranger = capital(
        "mallory", "log", "progress.reported", "--scheme", "CYPE-028", "--note", "hello"
    )
    assert stranger.exit_code == 1
    assert "mallory (no role) may not record progress.reported" in stranger.stderr

    history = json.loads(capital("root", "scheme", "CYPE-028", "--format", "json").stdout)
    assert [e["actor"] for e in history["history"][-2:]] == ["pm.alice", "fin.bob"]


def test_only_admins_manage_users_and_heads_of_capital_manage_subscribers(capital):
    capital("root", "users", "add", "root", "--role", "admin")
    capital("root", "users", "add", "pm.alice", "--role", "project_manager")
    denied = capital("pm.alice", "users", "add", "pm.alice", "--role", "admin")
    assert denied.exit_code == 3
    assert (
        "pm.alice (project_manager) may not manage users: it needs the role admin" in denied.stderr
    )
    subscribe = capital("pm.alice", "subscribers", "add", "me@council.gov.uk")
    assert subscribe.exit_code == 3
    assert "may not manage subscribers" in subscribe.stderr
    last_admin = capital("root", "users", "remove", "root")
    assert last_admin.exit_code == 3
    assert "last administrator" in last_admin.stderr


def test_a_demoted_last_admin_would_leave_nobody_to_manage_users(capital):
    capital("root", "users", "add", "root", "--role", "admin")
    capital("root", "users", "add", "pm.alice", "--role", "project_manager")

    demoted = capital("root", "users", "add", "root", "--role", "finance")

    assert demoted.exit_code == 3
    assert "root is the last administrator" in demoted.stderr
    users = json.loads(capital("root", "users", "list", "--format", "json").stdout)
    assert {u["name"]: u["roles"] for u in users}["root"] == "admin"
    capital("root", "users", "add", "ops.sam", "--role", "admin")
    assert capital("root", "users", "add", "root", "--role", "finance").exit_code == 0
    assert capital("ops.sam", "users", "add", "ops.sam", "--role", "finance").exit_code == 3


def test_operations_around_the_events_have_roles_too():
    manage = {Role.head_of_capital, Role.admin}
    assert OPERATIONS[Operation.acknowledge_alerts] == manage
    assert OPERATIONS[Operation.manage_subscribers] == manage
    assert OPERATIONS[Operation.run_sweep] == manage
    assert OPERATIONS[Operation.operate_outbox] == {Role.admin}
    assert OPERATIONS[Operation.run_scheduler] == {Role.admin}
    assert OPERATIONS[Operation.manage_users] == {Role.admin}


@pytest.fixture
def no_scheduler(monkeypatch):
    """`capital scheduler` would run until stopped: starting it fails the test instead."""

    def started(self, blocking=False):
        raise AssertionError("the scheduler was started")

    monkeypatch.setattr(Container, "notifier_scheduler", started)


def test_alerts_sweeps_and_the_outbox_are_refused_without_the_role(
    capital, sqlite_url, make_container, no_scheduler
):
    capital("root", "users", "add", "root", "--role", "admin")
    capital("root", "users", "add", "head", "--role", "head_of_capital")
    capital("root", "users", "add", "pm.alice", "--role", "project_manager")
    capital("root", "publish", str(SAMPLE_PROGRAMME))
    [alert, *_] = json.loads(capital("pm.alice", "alerts", "--format", "json").stdout)

    refused = {
        "acknowledge alerts": capital("mallory", "alerts", "ack", alert["alert_id"]),
        "run the daily sweep": capital("pm.alice", "sweep", "--today", "2024-07-29"),
        "dispatch or retry deliveries": capital("head", "outbox", "dispatch"),
        "run the scheduler": capital("head", "scheduler"),
    }
    retry = capital("head", "outbox", "retry", "1")

    for what, result in refused.items():
        assert result.exit_code == 3, (what, result.output)
        assert len(result.stderr.strip().splitlines()) == 1
    assert refused["acknowledge alerts"].stderr.strip() == (
        "mallory (no role) may not acknowledge alerts: it needs the role admin or head_of_capital"
    )
    assert (
        "pm.alice (project_manager) may not run the daily sweep: it needs the role admin or "
        "head_of_capital" in refused["run the daily sweep"].stderr
    )
    assert (
        "head (head_of_capital) may not dispatch or retry deliveries: it needs the role admin"
    ) in (refused["dispatch or retry deliveries"].stderr)
    assert "head (head_of_capital) may not run the scheduler: it needs the role admin" in (
        refused["run the scheduler"].stderr
    )
    assert retry.exit_code == 3 and "head (head_of_capital) may not dispatch" in retry.stderr
    container = make_container(sqlite_url)
    with container.sessions() as session:
        assert session.exec(select(SweepRun)).all() == []  # the refused sweep claimed nothing
    [still] = [a for a in container.notifier.alerts() if a.alert.alert_id == alert["alert_id"]]
    assert still.alert.acknowledged_at is None

    acked = capital("head", "alerts", "ack", alert["alert_id"])
    assert acked.exit_code == 0 and "as head" in acked.stdout
    swept = capital("head", "sweep", "--today", "2024-07-29")
    assert swept.exit_code == 0, swept.output
    again = capital("head", "sweep", "--today", "2024-07-29")
    assert "was swept already" in again.stdout and "by head (operator:" in again.stdout
    with container.sessions() as session:
        [run] = session.exec(select(SweepRun)).all()
    assert run.claimed_by.startswith("head (operator:")
    assert capital("root", "outbox", "dispatch").exit_code == 0


def test_a_date_after_today_cannot_be_swept(capital, sqlite_url, make_container, no_scheduler):
    capital("root", "users", "add", "root", "--role", "admin")
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).date().isoformat()

    early = capital("root", "sweep", "--today", tomorrow)
    scheduled = CliRunner().invoke(
        app, ["--actor", "root", "scheduler"], env={"CAPITAL_TODAY": "2999-01-01"}
    )

    assert early.exit_code == 2
    assert f"cannot sweep for {tomorrow}: it is after today" in early.stderr
    assert scheduled.exit_code == 2
    assert "cannot run the scheduler for 2999-01-01" in scheduled.stderr
    with make_container(sqlite_url).sessions() as session:
        assert session.exec(select(SweepRun)).all() == []
    assert capital("root", "sweep", "--today", "2024-07-29").exit_code == 0


def test_in_open_mode_anyone_may_acknowledge_sweep_and_work_the_outbox(capital, no_scheduler):
    capital("someone", "publish", str(SAMPLE_PROGRAMME))
    [alert, *_] = json.loads(capital("someone", "alerts", "--format", "json").stdout)

    assert capital("someone", "alerts", "ack", alert["alert_id"]).exit_code == 0
    assert capital("someone", "sweep", "--today", "2024-07-29").exit_code == 0
    assert capital("someone", "outbox", "dispatch").exit_code == 0
