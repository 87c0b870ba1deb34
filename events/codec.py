"""The one JSON codec both transports use, so schema drift fails in unit tests too."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from events.envelope import Envelope
from events.limits import MAX_MESSAGE_BYTES, STORED, nesting_problem

Model = TypeVar("Model", bound=BaseModel)


class DecodeError(ValueError):
    """Bytes that are not a valid message; `reason` names what is wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def describe(error: ValidationError) -> str:
    """One line per problem, naming the field path: `payload.budget: must be >= 0`."""
    parts = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "event"
        message = problem["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def encode(message: BaseModel) -> bytes:
    return message.model_dump_json(exclude_none=False).encode("utf-8")


def decode_as(model: type[Model], raw: bytes | str, *, stored: bool = False) -> Model:
    """`raw` as `model`, or DecodeError naming what is wrong. Oversized and deeply nested
    input is refused before parsing, so no input can exhaust memory or the stack.
    `stored`: what this product stored itself, perhaps before a limit existed, is read
    without the limits (`events.limits.STORED`), so history never becomes unreadable."""
    if not stored and len(raw) > MAX_MESSAGE_BYTES:
        unit = "bytes" if isinstance(raw, bytes) else "characters"
        raise DecodeError(f"message of {len(raw):,} {unit} is larger than {MAX_MESSAGE_BYTES:,}")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as error:
        raise DecodeError(
            f"not valid JSON: not UTF-8 text: {error.reason} at byte {error.start}"
        ) from None
    problem = None if stored else nesting_problem(text)
    if problem:
        raise DecodeError(problem)
    try:
        data = json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError) as error:  # JSONDecodeError, 4,300+ digit ints
        raise DecodeError(f"not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise DecodeError(f"expected a JSON object, got {type(data).__name__}")
    try:
        return model.model_validate(data, context=STORED if stored else None)
    except ValidationError as error:
        raise DecodeError(describe(error)) from None
    except ValueError as error:
        raise DecodeError(str(error)) from None


def decode_envelope(raw: bytes | str) -> Envelope:
    return decode_as(Envelope, raw)


def decode_stored(raw: bytes | str) -> Envelope:
    """An envelope this product stored (`scheme_event.envelope_json`)."""
    return decode_as(Envelope, raw, stored=True)
