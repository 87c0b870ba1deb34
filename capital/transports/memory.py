"""The in-process bus: `send` returns once every handler downstream has run, so when
`capital publish` returns the projection and the alerts are already in the database."""

from __future__ import annotations

from collections import deque

from capital.transports import Handler, Message


class InMemoryBus:
    def __init__(self, routes: dict[str, Handler]) -> None:
        self._routes = routes
        self.delivered: list[Message] = []

    def send(self, messages: list[Message]) -> None:
        queue = deque(messages)
        while queue:
            message = queue.popleft()
            self.delivered.append(message)
            handler = self._routes.get(message.topic)
            if handler is not None:
                queue.extend(handler(message.value))

    def close(self) -> None:
        pass
