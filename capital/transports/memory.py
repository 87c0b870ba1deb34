"""The in-process bus: `send` returns once every handler downstream has run, so when
`capital publish` returns the projection and the alerts are already in the database.

One send at a time, like one consumer of one partition: the HTTP API calls it from several
threads, and the handlers expect a scheme's events in order."""

from __future__ import annotations

import threading
from collections import deque

from capital.transports import Handler, Message


class InMemoryBus:
    def __init__(self, routes: dict[str, Handler]) -> None:
        self._routes = routes
        # The latest messages, for tests and diagnostics; bounded, as a server runs for long
        # and a publish may stream millions (a state change carries a whole snapshot).
        self.delivered: deque[Message] = deque(maxlen=1_000)
        self._lock = threading.Lock()

    def send(self, messages: list[Message]) -> None:
        with self._lock:
            queue = deque(messages)
            while queue:
                message = queue.popleft()
                self.delivered.append(message)
                handler = self._routes.get(message.topic)
                if handler is not None:
                    queue.extend(handler(message.value))

    def close(self) -> None:
        pass
