"""The outbox: retried with backoff while delivery fails, sent exactly once when it works."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from events import topics
from programme.rag import RagPolicy
from projection.database import SessionFactory
from services.notifier.delivery import DeliveryFailed, Outgoing
from services.notifier.outbox import DeliveryLoop
from services.notifier.service import NotFound, NotifierService
from services.notifier.settings import NotifierSettings, RetryPolicy
from services.notifier.store import AlertDelivery, DeliveryRequeue
from services.notifier.subscriptions import Recipient
from tests.builders import event, registered
from tests.unit.notifier.conftest import BuildNotifier
from tests.unit.notifier.fakes import FakeClock, FakeNotifier, smtp_down

HEAD = {"email": "head@council.gov.uk"}
DEPUTY = {"email": "deputy@council.gov.uk"}
CHANNEL = {"webhook_url": "https://hooks.example.org/capital"}


def slip(scheme_id: str = "S-1"):
    """Logged the day before the notifier's clock: news, sent at once."""
    return event(
        "completion.revised",
        "2024-07-28",
        scheme_id,
        anticipated_completion="2024-09-30",
        reason="Steel delayed",
    )


def raise_slippage(notifier: NotifierService, track, *scheme_ids: str) -> None:
    for scheme_id in scheme_ids or ("S-1",):
        _, change = track(registered(scheme_id), slip(scheme_id), today="2024-07-28")
        notifier.state_changes.handle(change, topics.STATE_CHANGES)


def deliveries(sessions: SessionFactory) -> list[AlertDelivery]:
    with sessions() as session:
        return list(session.exec(select(AlertDelivery).order_by(AlertDelivery.id)))


def test_a_delivery_is_sent_once_and_never_again(
    build_notifier: BuildNotifier, track, email: FakeNotifier, sessions: SessionFactory
) -> None:
    notifier = build_notifier(subscribers=[HEAD])
    raise_slippage(notifier, track)

    first = notifier.outbox.dispatch_due()
    second = notifier.outbox.dispatch_due()

    assert (first.sent, second.sent) == (1, 0)
    assert email.subjects() == ["[RED] S-1 slipped 92 days: new completion 30 Sep 2024"]
    [row] = deliveries(sessions)
    assert (row.status, row.attempts, row.sent_at is not None) == ("sent", 1, True)


def test_a_failing_delivery_is_retried_with_exponential_backoff_until_it_goes(
    build_notifier: BuildNotifier,
    track,
    email: FakeNotifier,
    clock: FakeClock,
    sessions: SessionFactory,
) -> None:
    notifier = build_notifier(subscribers=[HEAD])
    email.failures = [smtp_down(), smtp_down(), smtp_down()]
    raise_slippage(notifier, track)
    waits = []

    for _ in range(3):
        start = clock()
        assert notifier.outbox.dispatch_due().retrying == 1
        [row] = deliveries(sessions)
        waits.append(row.next_attempt_at - start)
        assert notifier.outbox.dispatch_due().retrying == 0  # not due yet: no attempt
        clock.current = row.next_attempt_at

    assert waits == [dt.timedelta(seconds=s) for s in (30, 60, 120)]
    assert notifier.outbox.dispatch_due().sent == 1
    [row] = deliveries(sessions)
    assert (row.status, row.attempts, email.attempts) == ("sent", 4, 4)
    assert "unavailable" in (row.last_error or "")


def test_the_backoff_is_capped() -> None:
    policy = RetryPolicy(initial_delay_s=30, max_delay_s=3600)

    delays = [policy.delay_after(n).total_seconds() for n in (1, 2, 3, 7, 8, 50, 10_000)]

    assert delays == [30, 60, 120, 1920, 3600, 3600, 3600]


def test_a_delivery_that_keeps_failing_is_marked_failed_after_the_last_attempt(
    build_notifier: BuildNotifier,
    track,
    email: FakeNotifier,
    clock: FakeClock,
    sessions: SessionFactory,
) -> None:
    notifier = build_notifier(subscribers=[HEAD], retry={"max_attempts": 3})
    email.failures = [smtp_down() for _ in range(10)]
    raise_slippage(notifier, track)

    for _ in range(5):
        notifier.outbox.dispatch_due()
        clock.advance(hours=2)

    [row] = deliveries(sessions)
    assert (row.status, row.attempts, email.attempts) == ("failed", 3, 3)


def test_a_refusal_that_cannot_heal_is_failed_at_once(
    build_notifier: BuildNotifier, track, email: FakeNotifier, sessions: SessionFactory
) -> None:
    notifier = build_notifier(subscribers=[HEAD])
    email.failures = [DeliveryFailed("550 no such user", permanent=True)]
    raise_slippage(notifier, track)

    report = notifier.outbox.dispatch_due()

    assert report.failed == 1
    [row] = deliveries(sessions)
    assert (row.status, row.last_error) == ("failed", "550 no such user")


def test_while_the_smtp_server_is_down_other_emails_wait_without_spending_attempts(
    build_notifier: BuildNotifier,
    track,
    email: FakeNotifier,
    clock: FakeClock,
    sessions: SessionFactory,
) -> None:
    notifier = build_notifier(subscribers=[HEAD, DEPUTY])
    raise_slippage(notifier, track, "S-1", "S-2")
    email.failures = [smtp_down()]

    report = notifier.outbox.dispatch_due()

    assert (email.attempts, report.retrying, report.deferred) == (1, 1, 3)
    rows = deliveries(sessions)
    assert sorted(r.attempts for r in rows) == [0, 0, 0, 1]
    assert {r.next_attempt_at for r in rows} == {clock() + dt.timedelta(seconds=30)}
    clock.advance(seconds=30)
    assert notifier.outbox.dispatch_due().sent == 4
    assert len(email.sent) == 4


def test_a_webhook_that_is_down_holds_back_neither_email_nor_other_webhooks(
    build_notifier: BuildNotifier, track, email: FakeNotifier, webhook: FakeNotifier
) -> None:
    notifier = build_notifier(
        subscribers=[HEAD, CHANNEL, {"webhook_url": "https://other.example.org/hook"}]
    )
    webhook.failures = [DeliveryFailed("webhook unreachable", endpoint_down=True)]
    raise_slippage(notifier, track)

    report = notifier.outbox.dispatch_due()

    assert (report.sent, report.retrying, report.deferred) == (2, 1, 0)
    assert len(email.sent) == 1 and len(webhook.sent) == 1


def test_an_unexpected_error_in_an_adapter_is_retried_not_lost(
    build_notifier: BuildNotifier, track, email: FakeNotifier, clock: FakeClock
) -> None:
    notifier = build_notifier(subscribers=[HEAD])
    email.failures = [RuntimeError("template bug")]  # type: ignore[list-item]
    raise_slippage(notifier, track)

    assert notifier.outbox.dispatch_due().retrying == 1
    clock.advance(seconds=30)
    assert notifier.outbox.dispatch_due().sent == 1


class SlowNotifier(FakeNotifier):
    def send(self, outgoing: Outgoing) -> None:
        time.sleep(0.05)  # long enough for every dispatcher to see the rows as due
        super().send(outgoing)


@pytest.fixture
def slow_email() -> SlowNotifier:
    return SlowNotifier("email")


def test_dispatchers_running_at_once_send_each_delivery_exactly_once(
    sessions: SessionFactory, clock: FakeClock, track, slow_email: SlowNotifier
) -> None:
    settings = NotifierSettings.model_validate({"subscribers": [HEAD, DEPUTY]})
    replicas = [
        NotifierService(
            sessions, settings, RagPolicy(), {"email": slow_email}, now=clock, worker=f"r{n}"
        )
        for n in range(3)
    ]
    raise_slippage(replicas[0], track, "S-1", "S-2", "S-3")
    start = threading.Barrier(len(replicas))

    def dispatch(replica: NotifierService) -> None:
        start.wait()
        replica.outbox.dispatch_due()

    threads = [threading.Thread(target=dispatch, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    sent = [(o.address, o.content.subject) for o in slow_email.sent]
    assert len(sent) == 6
    assert len(set(sent)) == 6


class WorkerDied(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs."""


def test_a_delivery_whose_worker_died_mid_send_is_flagged_not_sent_twice(
    build_notifier: BuildNotifier,
    track,
    email: FakeNotifier,
    clock: FakeClock,
    sessions: SessionFactory,
) -> None:
    notifier = build_notifier(subscribers=[HEAD])
    raise_slippage(notifier, track)
    email.failures = [WorkerDied()]  # type: ignore[list-item]
    with pytest.raises(WorkerDied):
        notifier.outbox.dispatch_due()

    clock.advance(minutes=10)
    assert notifier.outbox.dispatch_due().unknown == 0  # the claim may still be live
    clock.advance(minutes=10)
    report = notifier.outbox.dispatch_due()

    assert (report.unknown, report.sent, email.attempts) == (1, 0, 1)
    [row] = deliveries(sessions)
    assert row.status == "unknown"
    assert f"capital outbox retry {row.id}" in (row.last_error or "")
    # A person checked and asks for it again:
    assert row.id is not None and notifier.outbox.requeue([row.id], "ops.sam") == 1
    assert notifier.outbox.dispatch_due().sent == 1
    assert len(email.sent) == 1


def cut_off_mid_send(notifier: NotifierService, clock: FakeClock, *fakes: FakeNotifier) -> None:
    """Every send dies as under SIGKILL, then the claim timeout (15 min) passes."""
    for fake in fakes:
        fake.failures = [WorkerDied()]  # type: ignore[list-item]
    for _ in fakes:
        with pytest.raises(WorkerDied):
            notifier.outbox.dispatch_due()
    clock.advance(minutes=16)


def test_a_webhook_cut_off_mid_send_is_sent_again_with_the_same_idempotency_key(
    build_notifier: BuildNotifier,
    track,
    webhook: FakeNotifier,
    clock: FakeClock,
    sessions: SessionFactory,
) -> None:
    notifier = build_notifier(subscribers=[CHANNEL])
    raise_slippage(notifier, track)
    cut_off_mid_send(notifier, clock, webhook)
    [cut_off] = deliveries(sessions)

    report = notifier.outbox.dispatch_due()

    assert (report.resent, report.unknown, report.sent) == (1, 0, 1)
    [row] = deliveries(sessions)
    assert (row.status, row.attempts) == ("sent", 2)
    [resent] = webhook.sent
    assert resent.delivery_key == cut_off.delivery_key  # the receiver drops the repeat
    [requeue] = requeues(sessions)
    assert (requeue.delivery_id, requeue.previous_status) == (row.id, "sending")
    assert requeue.requeued_by.startswith("automatic")
    assert notifier.outbox.dispatch_due().sent == 0


def test_an_email_cut_off_mid_send_waits_for_a_person_unless_the_relay_checks_message_ids(
    build_notifier: BuildNotifier,
    track,
    email: FakeNotifier,
    clock: FakeClock,
    sessions: SessionFactory,
) -> None:
    notifier = build_notifier(subscribers=[HEAD])
    raise_slippage(notifier, track, "S-1")
    cut_off_mid_send(notifier, clock, email)
    assert notifier.outbox.dispatch_due().unknown == 1
    assert [row.status for row in deliveries(sessions)] == ["unknown"]

    email.drops_duplicates = True  # a relay set up to refuse a Message-ID seen before
    raise_slippage(notifier, track, "S-2")
    cut_off_mid_send(notifier, clock, email)
    report = notifier.outbox.dispatch_due()

    assert (report.resent, report.unknown, report.sent) == (1, 0, 1)
    assert [row.status for row in deliveries(sessions)] == ["unknown", "sent"]
    assert email.subjects() == ["[RED] S-2 slipped 92 days: new completion 30 Sep 2024"]


def requeues(sessions: SessionFactory) -> list[DeliveryRequeue]:
    with sessions() as session:
        return list(session.exec(select(DeliveryRequeue).order_by(DeliveryRequeue.id)))


def test_a_retry_of_a_failed_delivery_is_sent_again_and_records_who_asked(
    build_notifier: BuildNotifier,
    track,
    email: FakeNotifier,
    clock: FakeClock,
    sessions: SessionFactory,
) -> None:
    notifier = build_notifier(subscribers=[HEAD])
    email.failures = [DeliveryFailed("550 mailbox full", permanent=True)]
    raise_slippage(notifier, track)
    notifier.outbox.dispatch_due()
    [row] = deliveries(sessions)
    assert row.id is not None and row.status == "failed"

    retried = notifier.retry([row.id], "ops.sam")

    assert (retried.requeued, retried.refused) == (1, {})
    [requeue] = requeues(sessions)
    assert (requeue.delivery_id, requeue.requeued_by) == (row.id, "ops.sam")
    assert (requeue.previous_status, requeue.previous_error) == ("failed", "550 mailbox full")
    assert requeue.requeued_at == clock()
    assert notifier.outbox.dispatch_due().sent == 1


def test_a_retry_naming_a_delivery_that_does_not_exist_changes_nothing(
    build_notifier: BuildNotifier, track, email: FakeNotifier, sessions: SessionFactory
) -> None:
    notifier = build_notifier(subscribers=[HEAD])
    email.failures = [DeliveryFailed("550 mailbox full", permanent=True)]
    raise_slippage(notifier, track)
    notifier.outbox.dispatch_due()
    [row] = deliveries(sessions)
    assert row.id is not None

    with pytest.raises(NotFound, match="no delivery 99999"):
        notifier.retry([row.id, 99999], "ops.sam")

    assert deliveries(sessions)[0].status == "failed" and requeues(sessions) == []


def test_deliveries_to_someone_who_unsubscribed_are_never_sent_again(
    build_notifier: BuildNotifier, track, email: FakeNotifier, sessions: SessionFactory
) -> None:
    notifier = build_notifier()
    notifier.subscribe(Recipient(channel="email", address="leaving@council.gov.uk"), "admin")
    email.failures = [DeliveryFailed("550 mailbox full", permanent=True)]
    raise_slippage(notifier, track, "S-1")
    notifier.outbox.dispatch_due()
    raise_slippage(notifier, track, "S-2")  # queued, not yet sent
    failed, queued = deliveries(sessions)
    assert (failed.status, queued.status) == ("failed", "pending")
    notifier.unsubscribe("leaving@council.gov.uk", "admin")
    assert failed.id is not None and queued.id is not None

    retried = notifier.retry([queued.id, failed.id], "ops.sam")
    direct = notifier.outbox.requeue([queued.id], "ops.sam")

    assert retried.requeued == 0 and direct == 0
    assert "cancelled (unsubscribed by admin)" in retried.refused[queued.id]
    assert "is no longer subscribed" in retried.refused[failed.id]
    assert {d.status for d in deliveries(sessions)} == {"failed", "cancelled"}
    assert notifier.outbox.dispatch_due().sent == 0 and email.sent == []
    assert requeues(sessions) == []


def test_the_delivery_loop_sends_when_woken_and_keeps_going_after_a_failed_pass() -> None:
    passes: list[int] = []
    ran = threading.Event()

    def dispatch() -> None:
        passes.append(len(passes) + 1)
        ran.set()
        if len(passes) == 2:
            raise RuntimeError("database restarting")

    loop = DeliveryLoop(dispatch, idle_s=3600)  # after the first pass, only a wake-up
    loop.start()
    try:
        for expected in (1, 2, 3):
            assert ran.wait(10), f"pass {expected} never ran"
            ran.clear()
            if expected < 3:
                loop.wake()
    finally:
        loop.stop(wait_s=10)
    assert passes == [1, 2, 3]


def test_a_delivery_sent_while_the_database_restarts_is_recorded_as_sent_once_it_is_back(
    build_notifier: BuildNotifier,
    track,
    email: FakeNotifier,
    sessions: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    notifier = build_notifier(subscribers=[HEAD])
    raise_slippage(notifier, track)
    outbox = notifier.outbox
    real_set = outbox._set
    restarting = [OperationalError("UPDATE", {}, Exception("the database is starting up"))]

    def set_after_restart(*where: object, **values: object) -> int:
        if values.get("status") == "sent" and restarting:
            raise restarting.pop()
        return real_set(*where, **values)

    monkeypatch.setattr(outbox, "_set", set_after_restart)
    monkeypatch.setattr("services.notifier.outbox.time.sleep", lambda seconds: None)

    assert outbox.dispatch_due().sent == 1

    [row] = deliveries(sessions)
    assert (row.status, len(email.sent)) == ("sent", 1)
