"""`capital projection rebuild`: the projection replayed from the event log into fresh
tables and swapped in, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlmodel import col, select

from capital.application.publishing import to_message
from capital.settings import now_utc
from projection.rebuild import FreshTables
from projection.tables import FundingMovement, Scheme, SchemeEvent, SchemeVersion
from services.notifier.store import Alert
from services.tracker.rebuild import LogSource, rebuild_projection
from tests.builders import command_line, event
from tests.streams import generated_programme

TODAY = dt.date(2024, 7, 29)


def publish(container, events) -> None:
    container.publisher.send([to_message(e) for e in events])


def projection(container) -> dict[str, Any]:
    """Everything the rebuild replaces, as readers see it (row ids and stamps aside)."""
    with container.sessions() as session:
        schemes = [
            row.model_dump(exclude={"updated_at"})
            for row in session.exec(select(Scheme).order_by(col(Scheme.scheme_id)))
        ]
        events = session.exec(
            select(SchemeEvent.event_id, SchemeEvent.scheme_id, SchemeEvent.envelope_json).order_by(
                col(SchemeEvent.seq)
            )
        ).all()
        versions = [
            row.model_dump(exclude={"id"})
            for row in session.exec(select(SchemeVersion).order_by(col(SchemeVersion.seq)))
        ]
        movements = [
            row.model_dump(exclude={"id"})
            for row in session.exec(
                select(FundingMovement).order_by(col(FundingMovement.seq), col(FundingMovement.id))
            )
        ]
    return {"schemes": schemes, "events": events, "versions": versions, "movements": movements}


def alert_count(container) -> int:
    with container.sessions() as session:
        return len(session.exec(select(Alert)).all())


def test_a_rebuild_gives_the_live_projection_and_repairs_a_corrupted_scheme(
    make_container, database_url, monkeypatch
):
    container = make_container(database_url, today=TODAY)
    publish(container, generated_programme(schemes=15, events_per_scheme=12))
    live, alerts = projection(container), alert_count(container)
    with container.engine.begin() as connection:
        connection.execute(
            text("UPDATE scheme SET budget = 1, status = 'cancelled' WHERE scheme_id = 'GEN-00003'")
        )
    assert projection(container) != live

    run = command_line(monkeypatch, database_url, today=TODAY.isoformat())
    result = run("projection", "rebuild", "--from-log")

    assert result.exit_code == 0, result.output
    assert "rebuilt the projection from the log: 180 events, 15 schemes" in result.output
    assert projection(container) == live
    assert alert_count(container) == alerts  # nothing raised again


def test_readers_see_the_live_tables_until_the_swap_and_the_tracker_runs_throughout(
    make_container, database_url
):
    container = make_container(database_url, today=TODAY)
    stream = generated_programme(schemes=10, events_per_scheme=12)
    publish(container, stream)
    with container.engine.begin() as connection:
        connection.execute(
            text("UPDATE scheme SET title = 'damaged' WHERE scheme_id = 'GEN-00001'")
        )
    late = event("scheme.cancelled", "2024-07-28", scheme_id="GEN-00002", reason="no longer needed")
    seen_during: list[str] = []

    def meanwhile(done: int, total: int) -> None:
        with container.sessions() as session:
            seen_during.append(session.get(Scheme, "GEN-00001").title)
        if done == 50:
            publish(container, [late])  # the tracker applies an event mid-rebuild

    settings = container.settings
    report = rebuild_projection(
        FreshTables(container.engine),
        LogSource(page_size=50),
        settings.rag,
        today=TODAY,
        now=now_utc(),
        latest=now_utc(),
        progress=meanwhile,
    )

    assert report.events == len(stream) + 1
    assert len(seen_during) >= 3 and set(seen_during[:-1]) == {"damaged"}
    with container.sessions() as session:
        assert session.get(Scheme, "GEN-00001").title == "Generated scheme GEN-00001"
        assert session.get(Scheme, "GEN-00002").status == "cancelled"
    # and the tracker goes on writing to the swapped-in tables, numbering after them
    publish(
        container, [event("progress.reported", "2024-07-29", scheme_id="GEN-00001", note="on site")]
    )
    with container.sessions() as session:
        seqs = session.exec(select(SchemeEvent.seq).order_by(col(SchemeEvent.seq))).all()
    assert seqs == list(range(1, len(stream) + 3))
