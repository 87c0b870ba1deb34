"""The daily sweep run with fixed dates: overdue alerts once per anticipated date, one sweep
per date however many replicas, and each subscriber's digest."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

from sqlmodel import select

from events import AlertKind, Severity, topics
from projection.database import SessionFactory, transaction
from services.notifier.delivery.render import html, plain_text
from services.notifier.digest import Digest
from services.notifier.scheduler import CATCH_UP_JOB, DISPATCH_JOB, SWEEP_JOB, build_scheduler
from services.notifier.settings import SweepSchedule
from services.notifier.store import Alert, AlertDelivery, SweepRun
from services.notifier.sweep import SweepReport
from tests.builders import day, event, registered
from tests.unit.notifier.conftest import BuildNotifier
from tests.unit.notifier.fakes import FakeClock, FakeNotifier

LONDON = ZoneInfo("Europe/London")
LATE = [
    registered("S-1", baseline_completion="2024-06-30", title="Roof renewal"),
    event("scheme.started", "2024-02-01", "S-1"),
    event(
        "completion.revised",
        "2024-06-01",
        "S-1",
        anticipated_completion="2024-07-10",
        reason="Rain",
    ),
]
OVER_BUDGET = [
    registered("S-2", budget="100000", baseline_completion="2025-03-31", title="New classroom"),
    event("forecast.revised", "2024-07-01", "S-2", forecast_outturn="104000"),
]
ON_TRACK = [registered("S-3", baseline_completion="2025-06-30", title="Boiler")]


def alerts(sessions: SessionFactory) -> list[Alert]:
    with sessions() as session:
        return list(session.exec(select(Alert).order_by(Alert.dedup_key)))


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def test_overdue_is_raised_once_per_anticipated_date_however_many_mornings_pass(
    build_notifier: BuildNotifier, track, clock: FakeClock, sessions: SessionFactory
) -> None:
    notifier = build_notifier()
    track(*LATE, *ON_TRACK)

    first = notifier.sweep.run(day("2024-07-29"))
    clock.advance(days=1)
    second = notifier.sweep.run(day("2024-07-30"))

    assert [a.subject for a in first.raised] == [
        "[RED] S-1 overdue: completion was due 10 Jul 2024 (19 days ago)"
    ]
    assert (second.ran, second.raised, second.already_overdue) == (True, [], 1)
    assert [a.dedup_key for a in alerts(sessions)] == ["overdue:S-1:2024-07-10"]


def test_a_new_date_that_passes_in_turn_is_overdue_again(
    build_notifier: BuildNotifier, track, sessions: SessionFactory, clock: FakeClock
) -> None:
    notifier = build_notifier()
    track(*LATE)
    notifier.sweep.run(day("2024-07-29"))
    clock.advance(days=1, hours=8)  # the next day, when the new date is recorded
    track(
        event(
            "completion.revised",
            "2024-07-30",
            "S-1",
            anticipated_completion="2024-08-20",
            reason="x",
        )
    )

    report = notifier.sweep.run(day("2024-08-21"))

    assert [a.dedup_key for a in report.raised] == ["overdue:S-1:2024-08-20"]
    assert len(alerts(sessions)) == 2


def test_the_sweep_does_not_repeat_an_overdue_alert_an_event_already_raised(
    build_notifier: BuildNotifier, track, sessions: SessionFactory
) -> None:
    notifier = build_notifier()
    # A register imported the day before, whose first anticipated date had already passed.
    imported_late = [
        registered("S-4", baseline_completion=None),
        event(
            "completion.revised",
            "2024-07-28",
            "S-4",
            anticipated_completion="2024-06-30",
            reason="x",
        ),
    ]
    for change in track(*imported_late, today="2024-07-29"):
        notifier.state_changes.handle(change, topics.STATE_CHANGES)

    report = notifier.sweep.run(day("2024-07-29"))

    assert (report.raised, report.already_overdue) == ([], 1)
    assert [a.dedup_key for a in alerts(sessions)] == ["overdue:S-4:2024-06-30"]


def test_each_date_is_swept_once_however_many_replicas_sweep_it(
    build_notifier: BuildNotifier, track, sessions: SessionFactory
) -> None:
    replicas = [
        build_notifier(worker=f"replica-{n}", subscribers=[{"email": "head@council.gov.uk"}])
        for n in range(4)
    ]
    track(*LATE)
    start = threading.Barrier(len(replicas))
    reports: list[SweepReport] = []

    def sweep(replica) -> None:
        start.wait()
        reports.append(replica.sweep.run(day("2024-07-29")))

    threads = [threading.Thread(target=sweep, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.ran for r in reports) == [False, False, False, True]
    assert len(alerts(sessions)) == 1
    with sessions() as session:
        kinds = sorted(d.kind for d in session.exec(select(AlertDelivery)))
        [run] = session.exec(select(SweepRun))
    assert kinds == ["alert", "digest"]
    assert (run.status, run.overdue_raised, run.digests_queued) == ("done", 1, 1)


def test_a_sweep_abandoned_by_a_dead_replica_is_taken_over_after_its_lease(
    build_notifier: BuildNotifier, track, clock: FakeClock, sessions: SessionFactory
) -> None:
    track(*LATE)
    with transaction(sessions) as session:
        session.add(
            SweepRun(
                run_on=day("2024-07-29"),
                status="running",
                claim_token="replica-1:dead",
                started_at=clock(),
            )
        )
    survivor = build_notifier(worker="replica-2")

    clock.advance(minutes=10)
    assert survivor.sweep.run(day("2024-07-29")).ran is False
    clock.advance(minutes=25)
    taken_over = survivor.sweep.run(day("2024-07-29"))

    assert taken_over.ran is True
    assert [a.kind for a in taken_over.raised] == [AlertKind.overdue]


def test_sweeping_a_date_again_on_request_raises_and_queues_nothing_twice(
    build_notifier: BuildNotifier, track, sessions: SessionFactory
) -> None:
    notifier = build_notifier(subscribers=[{"email": "head@council.gov.uk"}])
    track(*LATE)
    notifier.sweep.run(day("2024-07-29"))

    again = notifier.sweep.run(day("2024-07-29"), again=True)

    assert (again.ran, again.raised, again.digests_queued) == (True, [], 0)
    with sessions() as session:
        assert len(list(session.exec(select(AlertDelivery)))) == 2


def test_the_digest_gives_the_days_alerts_then_the_red_and_amber_schemes(
    build_notifier: BuildNotifier, track, clock: FakeClock, email: FakeNotifier
) -> None:
    notifier = build_notifier(
        subscribers=[{"email": "head@council.gov.uk", "severity": "critical"}]
    )
    clock.current = at("2024-07-28T10:00:00")
    for change in track(*LATE, *OVER_BUDGET, *ON_TRACK, today="2024-07-28"):
        notifier.state_changes.handle(change, topics.STATE_CHANGES)
    clock.current = at("2024-07-29T06:00:00")

    notifier.sweep.run(day("2024-07-29"))
    notifier.outbox.dispatch_due()

    digest = next(o.content for o in email.sent if isinstance(o.content, Digest))
    assert [(a.kind, a.severity) for a in digest.alerts] == [
        (AlertKind.overdue, Severity.critical),
        (AlertKind.slippage, Severity.warning),
        (AlertKind.budget, Severity.warning),
    ]  # the critical first, then by time; the warnings reached them only here
    # The 10-day slip of 1 June is a warning, judged as at its date (it is overdue only
    # since 10 July, which the sweep's own alert reports).
    assert [s.scheme_id for s in digest.red] == ["S-1"]
    assert [s.scheme_id for s in digest.amber] == ["S-2"]
    assert digest.subject == "Capital programme digest 29 Jul 2024: 3 alerts, 1 red, 1 amber"


def test_the_next_digest_starts_where_the_last_one_ended(
    build_notifier: BuildNotifier, track, clock: FakeClock, email: FakeNotifier
) -> None:
    notifier = build_notifier(subscribers=[{"email": "head@council.gov.uk"}])
    clock.current = at("2024-07-28T10:00:00")
    for change in track(*LATE, today="2024-07-28"):
        notifier.state_changes.handle(change, topics.STATE_CHANGES)
    clock.current = at("2024-07-29T06:00:00")
    notifier.sweep.run(day("2024-07-29"))
    clock.current = at("2024-07-30T06:00:00")

    notifier.sweep.run(day("2024-07-30"))
    notifier.outbox.dispatch_due()

    digests = [o.content for o in email.sent if isinstance(o.content, Digest)]
    assert [len(d.alerts) for d in digests] == [2, 0]
    assert digests[1].since == at("2024-07-29T06:00:00")
    assert [s.scheme_id for s in digests[1].red] == ["S-1"]


def test_a_digest_covers_only_the_schemes_its_subscriber_follows(
    build_notifier: BuildNotifier, track, email: FakeNotifier
) -> None:
    notifier = build_notifier(subscribers=[{"email": "s2@council.gov.uk", "schemes": ["S-2"]}])
    for change in track(*LATE, *OVER_BUDGET, today="2024-07-29"):
        notifier.state_changes.handle(change, topics.STATE_CHANGES)

    notifier.sweep.run(day("2024-07-29"))
    notifier.outbox.dispatch_due()

    [digest] = [o.content for o in email.sent if isinstance(o.content, Digest)]
    assert {a.scheme_id for a in digest.alerts} == {"S-2"}
    assert digest.red == [] and [s.scheme_id for s in digest.amber] == ["S-2"]


def test_no_digest_is_sent_when_there_is_nothing_to_report(
    build_notifier: BuildNotifier, track, email: FakeNotifier
) -> None:
    notifier = build_notifier(subscribers=[{"email": "head@council.gov.uk"}])
    track(*ON_TRACK)

    report = notifier.sweep.run(day("2024-07-29"))

    assert report.digests_queued == 0


def test_subscribers_who_opted_out_of_the_digest_get_none(
    build_notifier: BuildNotifier, track
) -> None:
    notifier = build_notifier(subscribers=[{"email": "head@council.gov.uk", "digest": False}])
    track(*LATE)

    assert notifier.sweep.run(day("2024-07-29")).digests_queued == 0


# The scheduler ---------------------------------------------------------------------------


def test_the_sweep_is_scheduled_at_seven_london_time_in_summer_and_winter() -> None:
    early = dt.datetime(2024, 7, 29, 5, 0, tzinfo=LONDON)
    scheduler = build_scheduler(SweepSchedule(), sweep=lambda today: None, now=lambda: early)
    trigger = scheduler.get_job(SWEEP_JOB).trigger

    summer = trigger.get_next_fire_time(None, early)
    winter = trigger.get_next_fire_time(None, dt.datetime(2024, 12, 2, 5, 0, tzinfo=LONDON))

    assert summer.astimezone(dt.UTC) == at("2024-07-29T06:00:00")
    assert winter.astimezone(dt.UTC) == at("2024-12-02T07:00:00")


def test_the_sweep_time_and_zone_come_from_settings() -> None:
    schedule = SweepSchedule(at=dt.time(6, 30), timezone="Europe/Dublin")
    early = dt.datetime(2024, 1, 10, 5, 0, tzinfo=ZoneInfo("Europe/Dublin"))
    scheduler = build_scheduler(schedule, sweep=lambda today: None, now=lambda: early)

    fire = scheduler.get_job(SWEEP_JOB).trigger.get_next_fire_time(None, early)

    assert fire.astimezone(dt.UTC) == at("2024-01-10T06:30:00")


def test_the_sweep_job_is_given_the_date_in_london_not_in_utc() -> None:
    swept: list[dt.date] = []
    # 23:30 UTC on 29 July is already 30 July in London (BST).
    late_evening = dt.datetime(2024, 7, 29, 23, 30, tzinfo=dt.UTC)
    scheduler = build_scheduler(SweepSchedule(), sweep=swept.append, now=lambda: late_evening)

    scheduler.get_job(SWEEP_JOB).func()

    assert swept == [day("2024-07-30")]


def test_a_fixed_today_is_what_the_sweep_job_is_given() -> None:
    swept: list[dt.date] = []
    scheduler = build_scheduler(SweepSchedule(), sweep=swept.append, fixed_today=day("2023-01-09"))

    scheduler.get_job(SWEEP_JOB).func()

    assert swept == [day("2023-01-09")]


def test_a_notifier_started_after_seven_sweeps_once_at_start_up_in_case_it_was_missed() -> None:
    def scheduler_started_at(hour: int):
        started = dt.datetime(2024, 7, 29, hour, 0, tzinfo=LONDON)
        return build_scheduler(
            SweepSchedule(), sweep=lambda today: None, dispatch=lambda: None, now=lambda: started
        )

    assert scheduler_started_at(6).get_job(CATCH_UP_JOB) is None
    assert scheduler_started_at(9).get_job(CATCH_UP_JOB) is not None
    assert scheduler_started_at(9).get_job(DISPATCH_JOB).trigger.interval == dt.timedelta(
        seconds=30
    )


def test_a_sweep_records_who_ran_it_beside_the_worker(
    build_notifier: BuildNotifier, track, sessions: SessionFactory
) -> None:
    notifier = build_notifier(worker="host-a:41")
    track(*LATE)

    with notifier.sweep.run_by("ana.lee"):
        notifier.sweep.run(day("2024-07-29"))
    unattended = notifier.sweep.run(day("2024-07-30"))

    assert unattended.ran
    with sessions() as session:
        by_date = {run.run_on: run for run in session.exec(select(SweepRun))}
    assert by_date[day("2024-07-29")].claimed_by == "ana.lee@host-a:41"
    assert by_date[day("2024-07-30")].claimed_by == "host-a:41"


def test_a_long_name_still_fits_the_claim_column(
    build_notifier: BuildNotifier, track, sessions: SessionFactory
) -> None:
    notifier = build_notifier(worker="a-rather-long-host-name.estates.council.gov.uk:123456")

    with notifier.sweep.run_by("someone.with.a.very.long.name@council.gov.uk"):
        assert notifier.sweep.run(day("2024-07-29")).ran

    with sessions() as session:
        [run] = session.exec(select(SweepRun)).all()
    assert len(run.claim_token) <= 80
    assert run.claimed_by.startswith("someone.with.a.very.long.name@council.gov.uk@")


def test_the_digest_names_schemes_whose_snags_are_past_their_due_date(
    build_notifier: BuildNotifier, track, email: FakeNotifier
) -> None:
    notifier = build_notifier(subscribers=[{"email": "head@council.gov.uk"}])
    snags = [
        event("snagging.raised", "2024-07-01", "S-3", snag_id="F1", description="Fire door",
              priority="high", due_on="2024-07-15"),
        event("snagging.raised", "2024-07-01", "S-3", snag_id="F2", description="Paint",
              due_on="2024-09-01"),
    ]  # fmt: skip
    track(*ON_TRACK, *snags)

    notifier.sweep.run(day("2024-07-29"))
    notifier.outbox.dispatch_due()

    [digest] = [o.content for o in email.sent if isinstance(o.content, Digest)]
    assert digest.red == digest.amber == []
    assert [(s.scheme_id, s.overdue_snags) for s in digest.overdue_snags] == [("S-3", 1)]
    assert digest.subject.endswith("0 red, 0 amber, 1 overdue snag")
    assert "S-3 Boiler: 1 of 2 open snags overdue" in plain_text(digest)
    assert "S-3 Boiler: 1 of 2 open snags overdue" in html(digest)
