"""How values are written on the wire: one table the codec checks and the JSON Schema states.

Pydantic, validating the decoded JSON, is lenient in ways the contract does not promise: a
unix timestamp as a date, a UUID without hyphens, `1_000` or `1e3` as an amount, `true` as
an integer. Another system's validator would refuse those, so the codec refuses them too,
with the same patterns the schema carries (`events.schema`). Character classes are spelled
out (no `\\d`, `\\s`) so Python, JavaScript and Rust regex engines read them alike.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel

# End of text. `$` in Python also matches before a final newline; this does not.
END = r"(?![\s\S])"
# What pydantic strips from text (Unicode White_Space), and anything else.
WHITESPACE = r"[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
NOT_WHITESPACE = WHITESPACE.replace("[", "[^", 1)
ANY_CHARACTER = r"[\s\S]"

_FULL_DATE = r"(?!0000)[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
DATE_PATTERN = rf"^{_FULL_DATE}{END}"
DATETIME_PATTERN = (
    rf"^{_FULL_DATE}[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{{1,9}})?"
    rf"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9]){END}"
)
UUID_PATTERN = (
    rf"^[0-9a-fA-F]{{8}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{12}}{END}"
)
DECIMAL_TEXT_PATTERN = rf"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+){END}"

# The `$comment` on text pydantic strips: its limits, which the pattern alone hides.
TRIMMED_COMMENT = "{low}..{high} characters once surrounding whitespace is removed; shape {shape}"
TRIMMED = re.compile(r"^(?P<low>[0-9]+)\.\.(?P<high>[0-9]*) characters .*; shape (?P<shape>.*)")

_DATE = re.compile(DATE_PATTERN)
_DATETIME = re.compile(DATETIME_PATTERN)
_UUID = re.compile(UUID_PATTERN)
_DECIMAL_TEXT = re.compile(DECIMAL_TEXT_PATTERN)

Problem = tuple[tuple[str | int, ...], str]


def wire_problems(
    model: type[BaseModel], data: Any, loc: tuple[str | int, ...] = ()
) -> Iterator[Problem]:
    """Values in `data` (decoded JSON for `model`) written in a form the contract refuses."""
    if not isinstance(data, dict):
        return
    for name, field in model.model_fields.items():
        if name in data:
            yield from _check(field.annotation, data[name], (*loc, name))


def _check(annotation: Any, value: Any, loc: tuple[str | int, ...]) -> Iterator[Problem]:
    origin = get_origin(annotation)
    arguments = get_args(annotation)
    if origin is Annotated:
        yield from _check(arguments[0], value, loc)
    elif origin in (Union, types.UnionType):
        options = [option for option in arguments if option is not type(None)]
        if value is not None and len(options) == 1:
            yield from _check(options[0], value, loc)
    elif origin is list:
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield from _check(arguments[0], item, (*loc, index))
    elif origin is Literal:
        if isinstance(value, bool) and not any(isinstance(a, bool) for a in arguments):
            yield loc, f"must be one of {', '.join(map(repr, arguments))}, not a boolean"
    elif isinstance(annotation, type):
        yield from _check_type(annotation, value, loc)


def _check_type(kind: type, value: Any, loc: tuple[str | int, ...]) -> Iterator[Problem]:
    if issubclass(kind, BaseModel):
        yield from wire_problems(kind, value, loc)
    elif kind is AwareDatetime or issubclass(kind, dt.datetime):
        if not isinstance(value, dt.datetime) and not _matches(_DATETIME, value):
            yield loc, "must be an RFC 3339 date-time with its offset, e.g. 2024-03-01T17:00:00Z"
    elif issubclass(kind, dt.date):
        if not isinstance(value, dt.date) and not _matches(_DATE, value):
            yield loc, "must be a date written YYYY-MM-DD"
    elif issubclass(kind, uuid.UUID):
        if not isinstance(value, uuid.UUID) and not _matches(_UUID, value):
            yield loc, "must be a UUID written 8-4-4-4-12 with hyphens"
    elif issubclass(kind, Decimal):
        if isinstance(value, str) and not _DECIMAL_TEXT.fullmatch(value):
            yield loc, "must be a decimal number like 1234.56 (no exponent, spaces or separators)"
    elif kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        yield loc, "must be a whole number written without a decimal point"


def _matches(pattern: re.Pattern[str], value: Any) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None
