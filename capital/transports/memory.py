"""The in-process bus: `send` returns once every handler downstream has run, so when
`capital publish` returns the projection and the alerts are already in the database.

Messages are handled as batches, like a Kafka consumer taking what is waiting: each topic's
messages in the order sent, in one call of its handler (the tracker applies them in one
transaction), then whatever those emitted. One send at a time, like one consumer of one
partition: the HTTP API calls it from several threads, and the handlers expect a scheme's
events in order."""

from __future__ import annotations

import threading
from collections import deque

from capital.transports import Handler, Message

BATCH_SIZE = 1_000
"""At most this many messages to a handler at once: a tracker transaction stays short."""


class InMemoryBus:
    def __init__(self, routes: dict[str, Handler]) -> None:
        self._routes = routes
        # The latest messages, for tests and diagnostics; bounded, as a server runs for long
        # and a publish may stream millions (a state change carries a whole snapshot).
        self.delivered: deque[Message] = deque(maxlen=1_000)
        self._lock = threading.Lock()

    def send(self, messages: list[Message]) -> None:
        with self._lock:
            waiting = list(messages)
            while waiting:
                emitted: list[Message] = []
                for topic, batch in _by_topic(waiting):
                    self.delivered.extend(batch)
                    handler = self._routes.get(topic)
                    if handler is None:
                        continue
                    for start in range(0, len(batch), BATCH_SIZE):
                        chunk = batch[start : start + BATCH_SIZE]
                        emitted.extend(handler([message.value for message in chunk]))
                waiting = emitted

    def close(self) -> None:
        pass


def _by_topic(messages: list[Message]) -> list[tuple[str, list[Message]]]:
    """The messages of each topic in the order sent, topics in the order first seen."""
    batches: dict[str, list[Message]] = {}
    for message in messages:
        batches.setdefault(message.topic, []).append(message)
    return list(batches.items())
