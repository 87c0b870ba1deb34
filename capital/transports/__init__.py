"""How messages move: an in-process bus (embedded default) or Kafka. Both run the same
handlers, each a function from the bytes of a batch of messages received on one topic, in
the order received, to the messages to send on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from events import encode, topics
from events.dead_letters import DeadLetter


@dataclass(frozen=True)
class Message:
    topic: str
    key: bytes
    value: bytes


Handler = Callable[[Sequence[bytes]], list[Message]]


class Publisher(Protocol):
    def send(self, messages: list[Message]) -> None: ...

    def close(self) -> None: ...


def dead_letter(source_topic: str, raw: bytes, reason: str, event_id: str | None = None) -> Message:
    """The dead-letter record (`events.dead_letters.DeadLetter`) of a refused message."""
    record = DeadLetter.of(source_topic, raw, reason, event_id)
    return Message(topics.DEAD_LETTERS, b"", encode(record))
