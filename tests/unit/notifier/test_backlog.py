"""A backlog reaching the notifier: late news waits for the digest, and what a later event of
the same history superseded before then is never raised, however the events arrive."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import select

from capital.application.publishing import parse_lines, publish
from events import AlertKind, Severity, encode, topics
from programme.rag import RagPolicy
from projection.database import SessionFactory
from projection.tables import DeadLetter
from services.notifier.delivery.render import plain_text
from services.notifier.digest import Digest
from services.notifier.handlers import Raised, Refused
from services.notifier.store import Alert, AlertDelivery, AlertStatus
from services.tracker.handlers import SchemeTracker
from tests.builders import day, event, operator_as, registered
from tests.conftest import SAMPLE_PROGRAMME, fresh_database
from tests.unit.notifier.conftest import BuildNotifier
from tests.unit.notifier.fakes import FakeClock, FakeNotifier
from tests.unit.notifier.scenarios import notifier_database

HEAD = {"email": "head@council.gov.uk", "severity": "info"}
TODAY = "2024-07-29"


@pytest.fixture(autouse=True)
def afternoon_of_the_29th(clock: FakeClock) -> None:
    clock.current = dt.datetime(2024, 7, 29, 17, 0, tzinfo=dt.UTC)


def revised(on: str, to: str, recorded_on: str | None = None):
    return event(
        "completion.revised",
        on,
        recorded_on=recorded_on,
        anticipated_completion=to,
        reason="Ground conditions",
    )


def stored(sessions: SessionFactory) -> list[tuple[str, str]]:
    with sessions() as session:
        rows = session.exec(select(Alert).order_by(Alert.dedup_key))
        return [(row.subject, row.status) for row in rows]


def handle_all(notifier, changes: list[bytes]) -> list[Raised]:
    outcomes = [notifier.state_changes.handle(change, topics.STATE_CHANGES) for change in changes]
    assert all(isinstance(outcome, Raised) for outcome in outcomes)
    return outcomes  # type: ignore[return-value]


def digests(email: FakeNotifier) -> list[Digest]:
    return [o.content for o in email.sent if isinstance(o.content, Digest)]


def test_news_recorded_long_after_it_happened_waits_for_the_digest_which_raises_it(
    build_notifier: BuildNotifier, track, sessions: SessionFactory, email: FakeNotifier
) -> None:
    notifier = build_notifier(subscribers=[HEAD])
    late_slip = revised("2024-07-01", "2024-09-30", recorded_on=TODAY)
    [*_, change] = track(registered(), late_slip, today=TODAY)

    [outcome] = handle_all(notifier, [change])

    assert (outcome.new, [a.kind for a in outcome.held]) == ([], [AlertKind.slippage])
    [listed] = notifier.alerts()
    assert listed.delivery_status == "digest"
    with sessions() as session:
        assert session.exec(select(AlertDelivery)).all() == []

    report = notifier.sweep.run(day(TODAY))
    notifier.outbox.dispatch_due()

    assert [a.dedup_key for a in report.released] == [f"slippage:S-1:{late_slip.event_id}"]
    [digest] = digests(email)
    assert [a.subject for a in digest.alerts] == [
        "[RED] S-1 slipped 92 days: new completion 30 Sep 2024"
    ]
    assert stored(sessions) == [(digest.alerts[0].subject, AlertStatus.raised)]
    assert [s for s in email.subjects() if "slipped" in s] == []  # never sent on its own


def test_news_within_the_setting_is_raised_at_once(
    build_notifier: BuildNotifier, track, email: FakeNotifier
) -> None:
    notifier = build_notifier(subscribers=[HEAD], late_after_days=30)
    [*_, change] = track(registered(), revised("2024-07-01", "2024-09-30", TODAY), today=TODAY)

    [outcome] = handle_all(notifier, [change])
    notifier.outbox.dispatch_due()

    assert [a.kind for a in outcome.new] == [AlertKind.slippage] and outcome.held == []
    assert email.subjects() == ["[RED] S-1 slipped 92 days: new completion 30 Sep 2024"]


def test_a_published_history_raises_nothing_for_a_date_a_later_event_in_it_moved(
    build_notifier: BuildNotifier, track, sessions: SessionFactory, email: FakeNotifier
) -> None:
    """Last spring's history published today: the slip to June was overtaken by the slip to
    September before anyone heard of either; only September reaches the digest. Each event
    is judged as at its own date: in March nothing was overdue."""
    notifier = build_notifier(subscribers=[HEAD])
    to_june = revised("2024-03-01", "2024-06-30")
    to_september = revised("2024-04-01", "2024-09-30")
    history = [registered(baseline_completion="2024-05-31"), to_june, to_september]
    changes = track(*history, today=TODAY)

    outcomes = handle_all(notifier, changes)
    # The June change delivered again (a redelivery) neither raises it nor undoes September.
    handle_all(notifier, [changes[1]])

    assert [a.details["anticipated_completion"] for a in outcomes[2].superseded] == ["2024-06-30"]
    assert sorted(stored(sessions)) == [
        ("[RED] S-1 slipped 122 days: new completion 30 Sep 2024", AlertStatus.held),
        ("[RED] S-1 slipped 30 days: new completion 30 Jun 2024", AlertStatus.superseded),
    ]
    assert [a.subject for a in (row.alert for row in notifier.alerts())] == [
        "[RED] S-1 slipped 122 days: new completion 30 Sep 2024"
    ]
    notifier.sweep.run(day(TODAY))
    notifier.outbox.dispatch_due()
    [digest] = digests(email)
    assert [a.details["anticipated_completion"] for a in digest.alerts] == ["2024-09-30"]
    assert "30 Jun 2024" not in plain_text(digest)


def test_a_revision_back_within_the_baseline_supersedes_the_late_slip_it_undid(
    build_notifier: BuildNotifier, track, sessions: SessionFactory
) -> None:
    notifier = build_notifier()
    changes = track(
        registered(), revised("2024-03-01", "2024-07-31"), revised("2024-04-01", "2024-06-15"),
        today=TODAY,
    )  # fmt: skip

    outcomes = handle_all(notifier, changes)

    assert outcomes[2].new == outcomes[2].held == []  # an earlier date raises nothing itself
    assert [status for _, status in stored(sessions)] == [AlertStatus.superseded]
    assert notifier.sweep.run(day(TODAY)).released == []


def test_news_already_in_a_digest_is_not_taken_back_by_a_later_event(
    build_notifier: BuildNotifier, track, sessions: SessionFactory, clock: FakeClock
) -> None:
    notifier = build_notifier(subscribers=[HEAD])
    handle_all(notifier, track(registered(), revised("2024-03-01", "2024-07-31"), today=TODAY))
    notifier.sweep.run(day(TODAY))
    clock.advance(days=1)

    handle_all(notifier, track(revised("2024-07-30", "2024-09-30"), today="2024-07-30"))

    assert sorted((subject[:22], status) for subject, status in stored(sessions)) == [
        ("[RED] S-1 slipped 31 d", AlertStatus.raised),
        ("[RED] S-1 slipped 92 d", AlertStatus.raised),
    ]


def test_a_late_overdue_alert_is_held_and_a_later_date_supersedes_it(
    build_notifier: BuildNotifier, track, sessions: SessionFactory
) -> None:
    """A register imported in March whose anticipated date had already gone, published only
    now, then the next committee's new date: nobody hears the scheme was overdue in March,
    only (in the digest) that it slipped to October."""
    notifier = build_notifier()
    changes = track(
        registered(baseline_completion=None),
        revised("2024-03-01", "2024-02-29"),
        revised("2024-04-01", "2024-10-31"),
        today=TODAY,
    )

    outcomes = handle_all(notifier, changes)

    assert [(a.kind, a.severity) for a in outcomes[1].held] == [
        (AlertKind.overdue, Severity.critical)
    ]
    assert [a.kind for a in outcomes[2].superseded] == [AlertKind.overdue]
    assert [(row.alert.kind, row.delivery_status) for row in notifier.alerts()] == [
        (AlertKind.slippage, "digest")
    ]


def test_last_years_history_published_today_goes_to_the_digest_without_what_it_overtook(
    container,
) -> None:
    """The shipped sample history (2020 to 2024, each event stamped when it happened),
    published on 29 July 2024: old news, every alert held for the digest and judged as at
    its own date. CYPE-002's two slips are dropped, since it completed later in the same
    history; no overdue alert comes from the wall clock (CYPE-003 was not overdue when it
    slipped); CYPE-028's 25-day slip is a warning, though the scheme is overdue today."""
    numbered, errors = parse_lines(SAMPLE_PROGRAMME.read_bytes().split(b"\n"))
    assert not errors
    publish(container, numbered, operator_as("estates.pm", container), None)

    with container.sessions() as session:
        rows = session.exec(select(Alert).order_by(Alert.scheme_id, Alert.raised_at)).all()
    assert [(row.scheme_id, row.kind, row.severity, row.status) for row in rows] == [
        ("CYPE-002", "slippage", "critical", AlertStatus.superseded),
        ("CYPE-002", "budget", "warning", AlertStatus.held),
        ("CYPE-002", "slippage", "critical", AlertStatus.superseded),
        ("CYPE-003", "slippage", "critical", AlertStatus.held),
        ("CYPE-018", "slippage", "critical", AlertStatus.held),
        ("CYPE-023", "slippage", "critical", AlertStatus.held),
        ("CYPE-028", "slippage", "warning", AlertStatus.held),
    ]
    with container.sessions() as session:
        assert session.exec(select(AlertDelivery)).all() == []

    report = container.run_daily_sweep(day(TODAY))

    assert len(report.released) == 5
    # Overdue is the sweep's to say, judged today on the latest known dates.
    assert sorted((a.scheme_id, a.kind) for a in report.raised) == [
        (scheme, AlertKind.overdue) for scheme in ("CYPE-003", "CYPE-007", "CYPE-018", "CYPE-028")
    ]


POISON = b'{"scheme_id": "S-1"}'


def test_a_batch_with_a_duplicate_and_a_poison_message_does_what_one_at_a_time_does(
    build_notifier: BuildNotifier, database_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """The same state changes, as they may arrive from the broker (one redelivered, one not
    a state change at all), handled in one batch and one at a time on two databases: the
    same outcomes, alerts, deliveries and dead letters."""
    history = [
        registered(baseline_completion="2024-05-31"),
        revised("2024-03-01", "2024-06-30"),
        revised("2024-04-01", "2024-09-30"),
        registered("S-2"),
        event(
            "completion.revised", TODAY, "S-2", anticipated_completion="2024-10-31", reason="Rain"
        ),
    ]

    def handled(url: str, in_one_batch: bool) -> tuple[list[object], list[object]]:
        with notifier_database(url) as sessions:
            tracker = SchemeTracker(sessions, RagPolicy(), today=lambda: day(TODAY), now=clock)
            changes = [encode(tracker.handle(encode(e)).change) for e in history]  # type: ignore[union-attr]
            arriving = [*changes[:2], POISON, changes[1], changes[2], POISON, *changes[3:]]
            notifier = build_notifier(on=sessions, subscribers=[HEAD]).state_changes
            outcomes = (
                notifier.handle_batch(arriving, topics.STATE_CHANGES)
                if in_one_batch
                else [notifier.handle(raw, topics.STATE_CHANGES) for raw in arriving]
            )
            return [_seen(outcome) for outcome in outcomes], _stored_effects(sessions)

    kind = "sqlite" if database_url.startswith("sqlite") else "postgres"
    (tmp_path / "elsewhere").mkdir()
    with fresh_database(kind, tmp_path / "elsewhere") as url:
        one_at_a_time = handled(url, in_one_batch=False)
    batched = handled(database_url, in_one_batch=True)

    assert batched == one_at_a_time
    outcomes, (alerts, deliveries, dead_letters) = batched
    assert outcomes[4] == (
        [],
        [],
        ["[RED] S-1 slipped 122 days: new completion 30 Sep 2024"],
        ["[RED] S-1 slipped 30 days: new completion 30 Jun 2024"],
    )
    assert alerts == [
        ("[RED] S-1 slipped 122 days: new completion 30 Sep 2024", AlertStatus.held),
        ("[RED] S-1 slipped 30 days: new completion 30 Jun 2024", AlertStatus.superseded),
        ("[RED] S-2 slipped 123 days: new completion 31 Oct 2024", AlertStatus.raised),
    ]
    assert deliveries == [("head@council.gov.uk", "alert")]
    assert len(dead_letters) == 1


def _seen(outcome: Raised | Refused) -> object:
    if isinstance(outcome, Refused):
        return ("refused", outcome.reason)
    subjects = lambda alerts: [alert.subject for alert in alerts]  # noqa: E731
    return tuple(
        subjects(alerts)
        for alerts in (outcome.new, outcome.already_raised, outcome.held, outcome.superseded)
    )


def _stored_effects(sessions: SessionFactory) -> list[object]:
    with sessions() as session:
        alerts = sorted((row.subject, row.status) for row in session.exec(select(Alert)))
        deliveries = sorted((row.address, row.kind) for row in session.exec(select(AlertDelivery)))
        dead_letters = [row.reason for row in session.exec(select(DeadLetter))]
    return [alerts, deliveries, dead_letters]
