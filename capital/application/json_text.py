"""The one JSON text of every entry point: `capital ... --format json` and the HTTP API
write the same rows the same way. ISO dates, enums by their value; money stays Decimal and
is written as an exact JSON number, never through a float (nor as a string)."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import simplejson


def plain(value: Any) -> Any:
    """JSON-ready: ISO dates, RAG and status as their names; money stays Decimal."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def to_json(value: Any, indent: int | None = 2) -> str:
    return simplejson.dumps(plain(value), indent=indent, ensure_ascii=False, use_decimal=True)
