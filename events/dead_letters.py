"""What a consumer publishes on `capital.dead-letters` when it refuses a message.

The original bytes travel as base64 (exact) and as text (readable, undecodable bytes
replaced), so an operator can read the message and a tool can replay it unchanged.
"""

from __future__ import annotations

import base64

from pydantic import BaseModel, ConfigDict, Field


class DeadLetter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source_topic: str = Field(description="The topic the refused message came from, unprefixed.")
    reason: str = Field(description="What is wrong with it, naming the field.")
    event_id: str | None = Field(
        None, description="The refused event's id when it could be read, as it was written."
    )
    original_base64: str = Field(description="The original message bytes, base64.")
    original_text: str = Field(description="The original bytes as UTF-8, bad bytes replaced.")

    @classmethod
    def of(
        cls, source_topic: str, raw: bytes, reason: str, event_id: str | None = None
    ) -> DeadLetter:
        return cls(
            source_topic=source_topic,
            reason=reason,
            event_id=event_id,
            original_base64=base64.b64encode(raw).decode("ascii"),
            original_text=raw.decode("utf-8", errors="replace"),
        )
