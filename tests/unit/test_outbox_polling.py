"""The embedded notifier does not look at the outbox after every event when nothing is
due, yet what a state change queues, and a retry that falls due, still go out promptly."""

from __future__ import annotations

import datetime as dt

from capital import bootstrap
from capital.application.publishing import to_message
from tests.builders import event, registered


def send(container, *events):
    container.publisher.send([to_message(e) for e in events])


def count_looks(container, monkeypatch) -> list[int]:
    looks: list[int] = []
    dispatch = container.notifier.outbox.dispatch_due

    def counted():
        looks.append(1)
        return dispatch()

    monkeypatch.setattr(container.notifier.outbox, "dispatch_due", counted)
    return looks


def progress(number: int):
    return event("progress.reported", "2024-02-01", note=f"Week {number}: on programme")


def test_quiet_events_do_not_each_look_at_the_outbox(container, monkeypatch):
    looks = count_looks(container, monkeypatch)
    send(container, registered(), event("scheme.started", "2024-02-01"))
    first = len(looks)

    send(container, *(progress(n) for n in range(20)))

    assert first == 1  # the first state change looks once, to learn when it is next due
    assert len(looks) == first


def test_a_state_change_that_raises_alerts_dispatches_at_once(container, monkeypatch):
    looks = count_looks(container, monkeypatch)
    send(container, registered(baseline_completion="2024-09-30"))
    before = len(looks)

    send(
        container,
        # News of the day (not a backlog held for the digest): alerted at once.
        event("completion.revised", "2024-07-28", anticipated_completion="2025-03-31",
              reason="Asbestos in the ceiling void"),
    )  # fmt: skip

    assert len(looks) == before + 1


def test_the_outbox_is_looked_at_again_once_the_recheck_time_passes(container, monkeypatch):
    looks = count_looks(container, monkeypatch)
    send(container, registered())
    later = container.settings.local_now() + bootstrap.OUTBOX_RECHECK + dt.timedelta(seconds=1)
    # The deployment's clock, which the outbox keeps, moves past the recheck time.
    monkeypatch.setattr(type(container.settings), "local_now", lambda _: later)

    send(container, progress(1))

    assert len(looks) == 2
