"""The schema is versioned: an empty database upgrades to exactly the models, a database
written by release 0.1.0 (tables made by `create_all`, no migration history) upgrades in
place and keeps every row, and `capital db` upgrades and reports the revision. On SQLite
and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, make_url, text
from sqlmodel import select
from typer.testing import CliRunner

from capital.application import alerting
from capital.application.accounts import list_users, operator
from capital.bootstrap import bootstrap
from capital.cli import app
from capital.migrations import (
    BASELINE,
    SchemaRefused,
    current_revision,
    head_revision,
    model_metadata,
    upgrade_schema,
)
from capital.settings import Settings
from programme.position import Position
from projection.database import make_engine
from projection.views import scheme_history, scheme_snapshots
from services.notifier.store import AlertDelivery
from services.notifier.subscriptions import Recipient
from services.notifier.vault import AddressVault

RELEASE_0_1_0 = Path(__file__).resolve().parents[1] / "fixtures" / "release-0.1.0"
PACK_DATE = dt.date(2024, 7, 29)


@pytest.fixture
def engine(database_url: str) -> Any:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def schema_differences(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), model_metadata())


def load_release_0_1_0(database_url: str) -> None:
    """The database as release 0.1.0 left it, from the dump the repository ships."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database or "") as connection:
            connection.executescript((RELEASE_0_1_0 / "sqlite.sql").read_text())
        return
    dump = (RELEASE_0_1_0 / "postgresql.sql").read_text()
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(dump.encode("utf-8"))


def columns_of(engine: Engine) -> dict[str, list[str]]:
    tables = inspect(engine).get_table_names()
    return {
        table: [column["name"] for column in inspect(engine).get_columns(table)]
        for table in tables
        if table != "alembic_version"
    }


def rows_of(engine: Engine, columns: dict[str, list[str]]) -> dict[str, list[tuple[Any, ...]]]:
    """Each table's rows in key order (every table's key is its first column), read from
    the columns given, so a column added by a later revision does not count as a change."""
    with engine.connect() as connection:
        return {
            table: [
                tuple(row)
                for row in connection.execute(
                    text(f"SELECT {', '.join(names)} FROM {table} ORDER BY 1")
                )
            ]
            for table, names in columns.items()
        }


def test_an_empty_database_upgrades_to_exactly_the_models(engine: Engine) -> None:
    upgrade = upgrade_schema(engine)

    assert (upgrade.before, upgrade.after, upgrade.adopted) == (None, head_revision(), False)
    assert schema_differences(engine) == []


def test_a_release_0_1_0_database_upgrades_in_place_and_keeps_its_data(
    database_url: str, engine: Engine, make_container
) -> None:
    load_release_0_1_0(database_url)
    dumped_columns = columns_of(engine)
    dumped = rows_of(engine, dumped_columns)
    assert current_revision(engine) is None

    upgrade = upgrade_schema(engine)

    assert (upgrade.before, upgrade.after, upgrade.adopted) == (None, head_revision(), True)
    assert schema_differences(engine) == []
    kept = rows_of(engine, dumped_columns)
    assert {table: len(rows) for table, rows in kept.items()} == {
        "alert": 34,
        "alert_delivery": 36,
        "alert_delivery_requeue": 0,
        "dead_letter": 0,
        "funding_movement": 44,
        "scheme": 41,
        "scheme_event": 164,
        "scheme_version": 164,
        "subscriber": 1,
        "sweep_run": 2,
        "user_account": 2,
    }
    assert kept == dumped
    # Versions and funding movements learnt the date their event occurred on (0005).
    with engine.connect() as connection:
        for table in ("scheme_version", "funding_movement"):
            dated = connection.execute(
                text(
                    f"SELECT count(*), sum(CASE WHEN t.occurred_on = e.occurred_on "
                    f"THEN 1 ELSE 0 END) FROM {table} t JOIN scheme_event e ON e.seq = t.seq"
                )
            ).one()
            assert dated[0] == len(dumped[table]) and dated[1] == dated[0], table

    # And the product reads it as before: the board, alerts, subscribers, users, history.
    container = make_container(database_url, today=PACK_DATE)
    with container.sessions() as session:
        board = {
            s.scheme_id: s
            for s in scheme_snapshots(session, Position(PACK_DATE), container.settings.rag)
        }
        history = [event.type for event in scheme_history(session, "CYPE-018")]
    assert len(board) == 41
    cype_018 = board["CYPE-018"]
    assert (cype_018.slippage_days, cype_018.overall_rag.value) == (70, "red")
    assert history == [
        "scheme.registered",
        "scheme.started",
        "completion.revised",
        "progress.reported",
    ]

    alerts = container.notifier.alerts()
    assert len(alerts) == 34
    slip = next(a.alert for a in alerts if a.alert.dedup_key.startswith("slippage:CYPE-018"))
    assert slip.subject == "[RED] CYPE-018 slipped 70 days: new completion 6 Jan 2023"
    assert slip.acknowledged_by == "ana.lee"
    assert sum(len(a.deliveries) for a in alerts) == 34  # and two digests: 36 queued

    assert [(r.address, r.role) for r in container.notifier.subscribers()] == [
        ("ana.lee@council.gov.uk", "head_of_capital")
    ]
    admin = operator(container.sessions, "tests", "ana.lee")
    assert {(u.name, tuple(u.roles)) for u in list_users(container.sessions, admin)} == {
        ("ana.lee", ("admin",)),
        ("sam.finance", ("finance",)),
    }

    # Writing goes on where it stopped: keys continue after the release's rows.
    added = container.notifier.subscribe(
        Recipient(channel="email", address="sam.finance@council.gov.uk", role="finance"),
        "ana.lee",
    )
    assert added.subscriber_id == 2


TEAMS_HOOK = "https://council.webhook.office.com/webhookb2/0a1b/IncomingWebhook/t0k3nS3cr3tValue"
TEAMS_TOKEN = "t0k3nS3cr3tValue"


def add_webhook_as_release_0_1_0_did(engine: Engine) -> str:
    """A webhook subscriber and a queued delivery to it, stored as 0.1.0 stored them: the
    URL in clear, a plain hash of it as the recipient. Returns the delivery's alert id."""
    plain_hash = hashlib.sha256(f"webhook:{TEAMS_HOOK}".encode()).hexdigest()
    with engine.begin() as connection:
        alert_id, payload = connection.execute(
            text("SELECT alert_id, alert_json FROM alert ORDER BY raised_at LIMIT 1")
        ).one()
        connection.execute(
            text(
                "INSERT INTO subscriber (recipient_hash, channel, address, role, min_severity,"
                " schemes_json, digest, active, created_at, created_by) VALUES (:hash,"
                " 'webhook', :url, 'channel', 'warning', '[]', true, true, :now, 'ana.lee')"
            ),
            {"hash": plain_hash, "url": TEAMS_HOOK, "now": dt.datetime(2024, 7, 29, 7)},
        )
        connection.execute(
            text(
                "INSERT INTO alert_delivery (delivery_key, kind, alert_id, channel, address,"
                " recipient_hash, payload_json, status, attempts, next_attempt_at, created_at)"
                " VALUES (:key, 'alert', :alert_id, 'webhook', :url, :hash, :payload,"
                " 'pending', 0, :now, :now)"
            ),
            {
                "key": f"alert:{alert_id}:{plain_hash}",
                "alert_id": alert_id,
                "url": TEAMS_HOOK,
                "hash": plain_hash,
                "payload": payload,
                "now": dt.datetime(2024, 7, 29, 7),
            },
        )
    return str(alert_id)


def every_text_value(engine: Engine) -> list[str]:
    """Every value of every column of every table, as text."""
    with engine.connect() as connection:
        return [
            str(value)
            for table in inspect(engine).get_table_names()
            for row in connection.execute(text(f"SELECT * FROM {table}"))
            for value in row
            if value is not None
        ]


def test_the_upgrade_encrypts_the_webhook_urls_release_0_1_0_stored_in_clear(
    database_url: str, engine: Engine, make_container
) -> None:
    load_release_0_1_0(database_url)
    alert_id = add_webhook_as_release_0_1_0_did(engine)
    key = "a-deployment-key-for-the-test-0123456789"
    assert any(TEAMS_TOKEN in value for value in every_text_value(engine))

    upgrade_schema(engine, secret_key=key)

    assert schema_differences(engine) == []
    assert not [value for value in every_text_value(engine) if TEAMS_TOKEN in value]
    container = make_container(database_url, today=PACK_DATE, secret_key=key)
    admin = operator(container.sessions, "tests", "ana.lee")
    shown = [row["address"] for row in alerting.subscribers(container, admin)]
    assert shown == ["ana.lee@council.gov.uk", "https://council.webhook.office.com/…alue"]
    # The product opens what the revision sealed, and the delivery is still the one an
    # alert would queue to this subscriber now, so a replay adds nothing.
    with container.sessions() as session:
        [queued] = session.exec(
            select(AlertDelivery).where(AlertDelivery.channel == "webhook")
        ).all()
    assert AddressVault(key).open(queued.sealed_address or "") == TEAMS_HOOK
    subscriber = container.notifier.recipient("webhook", TEAMS_HOOK)
    assert queued.delivery_key == f"alert:{alert_id}:{subscriber.key_hash}"
    # Found by its URL, as before: unsubscribing cancels what was queued for it.
    assert alerting.unsubscribe(container, admin, TEAMS_HOOK)[1:] == (2, 1)


def test_without_a_key_postgresql_holding_webhook_urls_is_not_upgraded(
    postgres_url: str,
) -> None:
    engine = make_engine(postgres_url)
    try:
        load_release_0_1_0(postgres_url)
        add_webhook_as_release_0_1_0_did(engine)

        with pytest.raises(SchemaRefused) as refused:
            upgrade_schema(engine)

        assert "set CAPITAL_SECRET_KEY" in str(refused.value)
        assert "1 webhook subscriber(s) and 1 webhook delivery(ies)" in str(refused.value)
        assert current_revision(engine) is None  # nothing changed: one transaction
        assert any(TEAMS_TOKEN in value for value in every_text_value(engine))
    finally:
        engine.dispose()


def test_capital_db_upgrades_once_and_reports_the_head(database_url: str) -> None:
    runner = CliRunner()

    def capital(*args: str) -> str:
        result = runner.invoke(app, ["--database-url", database_url, "db", *args])
        assert result.exit_code == 0, result.output
        return result.stdout.strip()

    assert capital("current").startswith("none (no schema yet")
    assert capital("upgrade").endswith(f"upgraded from an empty database to {head_revision()}")
    assert capital("upgrade").endswith(f"already at {head_revision()} (head); nothing to do")
    assert capital("current") == f"{head_revision()} (head)"


def test_capital_db_upgrade_adopts_a_release_0_1_0_database(database_url: str) -> None:
    load_release_0_1_0(database_url)
    runner = CliRunner()
    result = runner.invoke(app, ["--database-url", database_url, "db", "upgrade"])

    assert result.exit_code == 0, result.output
    assert f"recognised a database written by release 0.1.0: stamped {BASELINE}" in result.stdout


def test_a_database_holding_something_else_is_refused_not_written(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE scheme (code VARCHAR(10) PRIMARY KEY)"))
        connection.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))

    with pytest.raises(SchemaRefused) as refused:
        upgrade_schema(engine)

    message = str(refused.value)
    assert "not those of Capital Tracker 0.1.0" in message
    assert "missing tables alert," in message
    assert "missing columns scheme.actual_completion, " in message
    assert "scheme.budget, " in message
    assert "other tables invoices" in message
    assert set(inspect(engine).get_table_names()) == {"scheme", "invoices"}


def test_the_cli_refuses_a_foreign_database_in_one_line(database_url: str, engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))

    result = CliRunner().invoke(app, ["--database-url", database_url, "schemes"])

    assert result.exit_code == 2
    assert "has tables but no migration history" in result.output
    assert "Traceback" not in result.output


def test_with_start_up_upgrades_off_postgresql_waits_for_capital_db_upgrade(
    postgres_url: str,
) -> None:
    settings = Settings(database_url=postgres_url, upgrade_schema_on_start=False)
    with pytest.raises(SchemaRefused, match="run `capital db upgrade`"):
        bootstrap(settings)

    result = CliRunner().invoke(app, ["--database-url", postgres_url, "db", "upgrade"])
    assert result.exit_code == 0, result.output

    container = bootstrap(settings)
    try:
        assert current_revision(container.engine) == head_revision()
    finally:
        container.close()
