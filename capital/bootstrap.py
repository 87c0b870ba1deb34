"""The composition root: the one place that picks adapters for a process."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from capital.settings import Settings, now_utc
from capital.transports import Handler, Message, Publisher, dead_letter
from capital.transports.memory import InMemoryBus
from events import topics
from projection.database import SessionFactory, create_schema, make_engine, session_factory
from services.tracker.handlers import Applied, Duplicate, Refused, SchemeTracker

WORKER_TOPICS: dict[str, tuple[str, ...]] = {
    "tracker": (topics.SCHEME_EVENTS,),
    "notifier": (topics.STATE_CHANGES,),
}


@dataclass
class Container:
    settings: Settings
    engine: Engine
    sessions: SessionFactory
    tracker: SchemeTracker
    routes: dict[str, Handler] = field(default_factory=dict)
    _publisher: Publisher | None = None

    @property
    def publisher(self) -> Publisher:
        """The bus for this process: built on first use so read-only commands never
        connect to Kafka."""
        if self._publisher is None:
            if self.settings.bus == "kafka":
                from capital.transports.kafka_producer import KafkaPublisher

                self._publisher = KafkaPublisher(self.settings.kafka_bootstrap)
            else:
                self._publisher = InMemoryBus(self.routes)
        return self._publisher

    def close(self) -> None:
        if self._publisher is not None:
            self._publisher.close()
        self.engine.dispose()


def bootstrap(settings: Settings, publisher: Publisher | None = None) -> Container:
    engine = make_engine(settings.database_url)
    create_schema(engine)
    sessions = session_factory(engine)
    tracker = SchemeTracker(sessions, settings.rag, today=settings.current_date, now=now_utc)
    container = Container(settings, engine, sessions, tracker, _publisher=publisher)
    container.routes[topics.SCHEME_EVENTS] = track_scheme_events(tracker)
    return container


def track_scheme_events(tracker: SchemeTracker) -> Handler:
    def handle(raw: bytes) -> list[Message]:
        outcome = tracker.handle(raw, source=topics.SCHEME_EVENTS)
        if isinstance(outcome, Applied | Duplicate) and outcome.change is not None:
            change = outcome.change
            return [
                Message(
                    topics.STATE_CHANGES,
                    change.scheme_id.encode("utf-8"),
                    change.model_dump_json().encode("utf-8"),
                )
            ]
        if isinstance(outcome, Refused):
            return [dead_letter(topics.SCHEME_EVENTS, raw, outcome.reason, outcome.event_id)]
        return []

    return handle
