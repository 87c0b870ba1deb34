"""A notifier on a real database (SQLite, and PostgreSQL when configured), with fake
delivery adapters and a clock the test moves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from events import Envelope, encode
from programme.rag import RagPolicy
from projection.database import SessionFactory
from services.notifier.service import NotifierService
from services.notifier.settings import NotifierSettings
from services.tracker.handlers import Applied, SchemeTracker
from tests.unit.notifier.fakes import FakeClock, FakeNotifier
from tests.unit.notifier.scenarios import notifier_database

BuildNotifier = Callable[..., NotifierService]


@pytest.fixture
def sessions(database_url: str) -> Iterator[SessionFactory]:
    with notifier_database(database_url) as made:
        yield made


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def email() -> FakeNotifier:
    return FakeNotifier("email", shared_endpoint=True)


@pytest.fixture
def webhook() -> FakeNotifier:
    # Like the real one: every webhook carries its idempotency key.
    return FakeNotifier("webhook", shared_endpoint=False, drops_duplicates=True)


@pytest.fixture
def build_notifier(
    sessions: SessionFactory, clock: FakeClock, email: FakeNotifier, webhook: FakeNotifier
) -> BuildNotifier:
    def build(
        worker: str = "replica-1", on: SessionFactory | None = None, **settings: Any
    ) -> NotifierService:
        """A notifier on the test's database, or `on` another one."""
        return NotifierService(
            on or sessions,
            NotifierSettings.model_validate(settings),
            RagPolicy(),
            {"email": email, "webhook": webhook},
            now=clock,
            worker=worker,
        )

    return build


@pytest.fixture
def track(sessions: SessionFactory, clock: FakeClock) -> Callable[..., list[bytes]]:
    """Apply events with the real tracker; returns the state changes it emitted."""

    def apply(*events: Envelope, today: str = "2024-07-29") -> list[bytes]:
        tracker = SchemeTracker(
            sessions, RagPolicy(), today=lambda: dt.date.fromisoformat(today), now=clock
        )
        emitted = []
        for event in events:
            outcome = tracker.handle(encode(event))
            assert isinstance(outcome, Applied), outcome
            emitted.append(encode(outcome.change))
        return emitted

    return apply
