"""The notifier's consumer on a real database: alerts raised once, however often a state
change arrives, with their deliveries queued in the same transaction."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlmodel import select

from events import Severity, topics
from projection.database import SessionFactory
from projection.tables import DeadLetter
from services.notifier import handlers
from services.notifier.handlers import Raised, Refused
from services.notifier.store import Alert, AlertDelivery, record_alerts
from services.notifier.subscriptions import Recipient
from tests.builders import event, registered
from tests.unit.notifier.conftest import BuildNotifier
from tests.unit.notifier.fakes import FakeClock

SLIP_70_DAYS = event(
    "completion.revised", "2024-05-01", anticipated_completion="2024-09-08", reason="Asbestos"
)
SLIP_10_DAYS = event(
    "completion.revised", "2024-05-01", anticipated_completion="2024-07-10", reason="Weather"
)


@pytest.fixture(autouse=True)
def on_the_day_of_the_slips(clock: FakeClock) -> None:
    """The notifier hears of these events the day they happen: news, not a backlog."""
    clock.current = dt.datetime(2024, 5, 1, 17, 0, tzinfo=dt.UTC)


def rows(sessions: SessionFactory, table: type) -> list:
    with sessions() as session:
        return list(session.exec(select(table)))


def test_a_state_change_raises_its_alert_once_however_often_it_arrives(
    build_notifier: BuildNotifier, track, sessions: SessionFactory
) -> None:
    notifier = build_notifier(subscribers=[{"email": "head@council.gov.uk"}])
    _, change = track(registered(), SLIP_70_DAYS, today="2024-05-01")

    first = notifier.state_changes.handle(change, topics.STATE_CHANGES)
    again = notifier.state_changes.handle(change, topics.STATE_CHANGES)

    assert isinstance(first, Raised) and isinstance(again, Raised)
    assert [a.subject for a in first.new] == [
        "[RED] S-1 slipped 70 days: new completion 8 Sep 2024"
    ]
    assert again.new == []
    # The replay hands back what was raised, so a lost publication is published again.
    assert again.already_raised == first.new
    assert len(rows(sessions, Alert)) == 1
    assert len(rows(sessions, AlertDelivery)) == 1


def test_deliveries_are_queued_only_for_subscribers_who_want_the_alert_now(
    build_notifier: BuildNotifier, track, sessions: SessionFactory
) -> None:
    notifier = build_notifier(
        subscribers=[
            {"email": "critical.only@council.gov.uk", "severity": "critical"},
            {"email": "other.scheme@council.gov.uk", "schemes": ["S-2"]},
            {"webhook_url": "https://hooks.example.org/T0/B0/secret", "severity": "info"},
            {"email": "warnings@council.gov.uk", "severity": "warning"},
        ]
    )
    _, amber_slip = track(registered(), SLIP_10_DAYS, today="2024-05-01")

    outcome = notifier.state_changes.handle(amber_slip, topics.STATE_CHANGES)

    assert isinstance(outcome, Raised)
    assert outcome.new[0].severity is Severity.warning
    queued = sorted(d.address for d in rows(sessions, AlertDelivery))
    assert queued == ["https://hooks.example.org/…cret", "warnings@council.gov.uk"]


def test_a_subscription_made_with_the_cli_wins_over_settings_for_the_same_address(
    build_notifier: BuildNotifier, track, sessions: SessionFactory
) -> None:
    notifier = build_notifier(
        subscribers=[{"email": "head@council.gov.uk", "severity": "critical"}]
    )
    notifier.subscribe(
        Recipient(channel="email", address="head@council.gov.uk", min_severity=Severity.info),
        actor="head",
    )
    _, amber_slip = track(registered(), SLIP_10_DAYS, today="2024-05-01")

    notifier.state_changes.handle(amber_slip, topics.STATE_CHANGES)

    assert [d.address for d in rows(sessions, AlertDelivery)] == ["head@council.gov.uk"]
    [only] = notifier.subscribers()
    assert only.source == "cli"


def test_unsubscribing_cancels_what_was_queued_for_that_address(
    build_notifier: BuildNotifier, track, sessions: SessionFactory
) -> None:
    notifier = build_notifier()
    notifier.subscribe(Recipient(channel="email", address="leaving@council.gov.uk"), "admin")
    _, slip = track(registered(), SLIP_70_DAYS, today="2024-05-01")
    notifier.state_changes.handle(slip, topics.STATE_CHANGES)

    removed, cancelled = notifier.unsubscribe("Leaving@Council.gov.uk", "admin")

    assert (removed.address, cancelled) == ("leaving@council.gov.uk", 1)
    assert notifier.subscribers() == []
    assert notifier.outbox.dispatch_due().sent == 0


def test_bytes_that_are_not_a_state_change_go_to_dead_letters_once(
    build_notifier: BuildNotifier, sessions: SessionFactory
) -> None:
    notifier = build_notifier()

    outcome = notifier.state_changes.handle(b'{"scheme_id": "S-1"}', topics.STATE_CHANGES)
    notifier.state_changes.handle(b'{"scheme_id": "S-1"}', topics.STATE_CHANGES)

    assert isinstance(outcome, Refused)
    assert "message_id" in outcome.reason
    [letter] = rows(sessions, DeadLetter)
    assert letter.source == topics.STATE_CHANGES


def test_replicas_handling_the_same_state_change_at_once_raise_it_once(
    build_notifier: BuildNotifier, track, sessions: SessionFactory
) -> None:
    settings = {"subscribers": [{"email": "head@council.gov.uk"}]}
    replicas = [build_notifier(worker=f"replica-{n}", **settings) for n in range(4)]
    _, change = track(registered(), SLIP_70_DAYS, today="2024-05-01")
    start = threading.Barrier(len(replicas))
    outcomes: list[Raised | Refused] = []

    def consume(replica) -> None:
        start.wait()
        outcomes.append(replica.state_changes.handle(change, topics.STATE_CHANGES))

    threads = [threading.Thread(target=consume, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(len(o.new) for o in outcomes if isinstance(o, Raised)) == 1
    assert len(rows(sessions, Alert)) == 1
    assert len(rows(sessions, AlertDelivery)) == 1


def test_a_batch_that_fails_part_way_is_handled_again_one_at_a_time_raising_each_alert_once(
    build_notifier: BuildNotifier, track, sessions: SessionFactory, monkeypatch
) -> None:
    notifier = build_notifier(subscribers=[{"email": "head@council.gov.uk"}])
    changes = [*track(registered(), SLIP_70_DAYS, today="2024-05-01")]
    slip_of_s2 = event(
        "completion.revised",
        "2024-05-01",
        "S-2",
        anticipated_completion="2024-09-08",
        reason="Damp",
    )
    changes += track(registered("S-2"), slip_of_s2, today="2024-05-01")
    failures = iter([RuntimeError("the database went away mid-batch")])

    def fails_once_after_the_first_alert(session, alerts, *args, **kwargs):
        if alerts and alerts[0].scheme_id == "S-2":
            for failure in failures:
                raise failure
        return record_alerts(session, alerts, *args, **kwargs)

    monkeypatch.setattr(handlers, "record_alerts", fails_once_after_the_first_alert)

    outcomes = notifier.state_changes.handle_batch(changes, topics.STATE_CHANGES)

    assert [[a.scheme_id for a in o.new] for o in outcomes if isinstance(o, Raised)] == [
        [],
        ["S-1"],
        [],
        ["S-2"],
    ]
    assert sorted(row.scheme_id for row in rows(sessions, Alert)) == ["S-1", "S-2"]
    assert len(rows(sessions, AlertDelivery)) == 2
