"""Fakes for the notifier's ports and a clock the tests move by hand."""

from __future__ import annotations

import datetime as dt

from services.notifier.delivery import DeliveryFailed, Outgoing


class FakeClock:
    def __init__(self, start: dt.datetime = dt.datetime(2024, 7, 29, 6, 0, tzinfo=dt.UTC)):
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += dt.timedelta(**delta)


class FakeNotifier:
    """Records what it was asked to send; fails with the queued errors first."""

    def __init__(
        self,
        channel: str = "email",
        shared_endpoint: bool = True,
        failures: list[DeliveryFailed] | None = None,
        drops_duplicates: bool = False,
    ) -> None:
        self.channel = channel
        self.shared_endpoint = shared_endpoint
        self.drops_duplicates = drops_duplicates
        self.failures = list(failures or [])
        self.sent: list[Outgoing] = []
        self.attempts = 0

    def send(self, outgoing: Outgoing) -> None:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(outgoing)

    def subjects(self) -> list[str]:
        return [o.content.subject for o in self.sent]


def smtp_down() -> DeliveryFailed:
    return DeliveryFailed("SMTP server unavailable: ConnectionRefusedError", endpoint_down=True)
