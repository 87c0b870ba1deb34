"""Recording what a consumer refused, once, with the reason and the original bytes."""

from __future__ import annotations

import base64
import datetime as dt

from sqlmodel import Session, func, select

from projection.tables import DeadLetter


def readable(raw: bytes) -> str:
    """The original bytes as text a person can read; NUL cannot live in a SQL text column."""
    return raw.decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")


def record_dead_letter(
    session: Session,
    *,
    source: str,
    reason: str,
    raw: bytes,
    at: dt.datetime,
    event_id: str | None = None,
    scheme_id: str | None = None,
) -> bool:
    """Add a dead letter unless the same message was already refused for the same reason
    (a redelivery); the message is known by its event id, else by its bytes. Returns
    whether a row was added."""
    original = base64.b64encode(raw).decode("ascii")
    same_message = (
        DeadLetter.event_id == event_id
        if event_id is not None
        else DeadLetter.raw_base64 == original
    )
    query = select(DeadLetter.id).where(
        DeadLetter.source == source, DeadLetter.reason == reason, same_message
    )
    if session.exec(query).first() is not None:
        return False
    session.add(
        DeadLetter(
            event_id=event_id,
            scheme_id=scheme_id,
            source=source,
            reason=reason,
            raw=readable(raw),
            raw_base64=original,
            at=at,
        )
    )
    return True


def dead_letter_count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(DeadLetter)).one())
