"""How messages move: an in-process bus (embedded default) or Kafka. Both run the same
handlers, each a function from the bytes received to the messages to send on."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from events import topics


@dataclass(frozen=True)
class Message:
    topic: str
    key: bytes
    value: bytes


Handler = Callable[[bytes], list[Message]]


class Publisher(Protocol):
    def send(self, messages: list[Message]) -> None: ...

    def close(self) -> None: ...


def dead_letter(source_topic: str, raw: bytes, reason: str, event_id: str | None = None) -> Message:
    """The dead-letter record: the reason and the original bytes (base64, and as text)."""
    body = {
        "source_topic": source_topic,
        "reason": reason,
        "event_id": event_id,
        "original_base64": base64.b64encode(raw).decode("ascii"),
        "original_text": raw.decode("utf-8", errors="replace"),
    }
    return Message(topics.DEAD_LETTERS, b"", json.dumps(body).encode("utf-8"))
