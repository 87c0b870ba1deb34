"""What the contract accepts at its edges: text lengths and characters, dates a capital
scheme can plausibly have, and how big and how deeply nested a message may be.

Every producer and consumer decodes through these limits (the codec and the models use
them), so an event one side accepts the other does too. Limits on text are part of the
models' JSON Schema (`maxLength`); the others are stated in their descriptions.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    StringConstraints,
    ValidationInfo,
)

LINE_MAX = 255
"""Single-line text: titles, names, sources, ids, the actor (an e-mail address is <= 254)."""
TEXT_MAX = 4000
"""Text that may run over lines: reasons, notes, descriptions."""

EARLIEST_DATE = dt.date(1990, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)
"""Dates outside these are typing mistakes (9999-12-31, 0024-03-15), not capital schemes;
and every date inside leaves room for the arithmetic reports do (a chart's next year)."""

MAX_MESSAGE_BYTES = 1_048_576
"""A message larger than this is refused before it is parsed; events are a few kB."""
MAX_NESTING = 32
"""JSON deeper than this is refused before it is parsed; an envelope is 4 levels deep."""

_LINE_BREAKS_AND_TABS = frozenset("\t\n\r")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def unsafe_pattern(multiline: bool) -> str:
    """A regular expression (JSON Schema dialect) finding a character `unsafe_character`
    refuses; `unsafe_character` searches with this same expression, so the two cannot drift."""
    c0 = r"\x00-\x08\x0b\x0c\x0e-\x1f" if multiline else r"\x00-\x1f"
    return f"[{c0}\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]"


_UNSAFE = {multiline: re.compile(unsafe_pattern(multiline)) for multiline in (False, True)}


def unsafe_character(text: str, multiline: bool) -> str | None:
    """Why `text` may not be stored: a control character (NUL and the like, or a line
    break in single-line text) or a bidirectional override, which can make text read
    differently from what it says. None when it is fine."""
    for match in _UNSAFE[multiline].finditer(text):
        char = match.group()
        kind = (
            "a bidirectional override"
            if char in _BIDI_CONTROLS
            else "a line break or tab"
            if char in _LINE_BREAKS_AND_TABS
            else "a control character"
        )
        name = unicodedata.name(char, "")
        label = f"U+{ord(char):04X}" + (f" {name}" if name else "")
        return f"contains {kind} ({label}) at position {match.start() + 1}"
    return None


STORED = {"stored": True}
"""Validation context for what was stored before a limit existed: limits are for new input,
and history must stay readable (`events.codec.decode_stored`)."""


def is_stored(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("stored"))


def _text_within(limit: int) -> Callable[[str, ValidationInfo], str]:
    def check(text: str, info: ValidationInfo) -> str:
        if not is_stored(info) and len(text) > limit:
            raise ValueError(f"String should have at most {limit} characters")
        return text

    return check


def _safe_characters(
    multiline: bool, min_length: int | None
) -> Callable[[Any, ValidationInfo], Any]:
    """Checked on the text as sent, before surrounding whitespace is stripped, so the rule
    is the same anywhere in the text and a JSON Schema can state it (`minLength` of the
    text as sent, as version 1 of the contract has it). History is read as it was stored:
    text that was only whitespace was stored empty, and must stay readable."""

    def check(value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and not is_stored(info):
            if min_length and len(value) < min_length:
                raise ValueError(f"String should have at least {min_length} character")
            problem = unsafe_character(value, multiline)
            if problem:
                raise ValueError(problem)
        return value

    return check


def _text(limit: int, multiline: bool, min_length: int | None) -> Any:
    """Text of at most `limit` characters (stated in the JSON Schema as `maxLength`), with
    no control characters or bidirectional overrides (stated as a pattern it must not
    match)."""
    return Annotated[
        str,
        BeforeValidator(_safe_characters(multiline, min_length)),
        StringConstraints(strip_whitespace=True),
        AfterValidator(_text_within(limit)),
        *([SentLength(min_length)] if min_length else []),
        WithJsonSchemaExtra(
            {
                **({"minLength": min_length} if min_length else {}),
                "maxLength": limit,
                "not": {"pattern": unsafe_pattern(multiline)},
            }
        ),
    ]


def plausible_date(day: dt.date) -> dt.date:
    """`day` when a capital scheme could have it; ValueError with the range otherwise."""
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(
            f"{day.isoformat()} is outside the dates a capital scheme can have "
            f"({EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()})"
        )
    return day


def _plausible_day(day: dt.date, info: ValidationInfo) -> dt.date:
    return day if is_stored(info) else plausible_date(day)


def _plausible_moment(moment: dt.datetime, info: ValidationInfo) -> dt.datetime:
    if is_stored(info):
        return moment
    try:
        in_utc = moment.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise ValueError(
            f"{moment.isoformat()}: its time-zone offset cannot be represented"
        ) from None
    plausible_date(in_utc.date())
    plausible_date(moment.date())
    return moment


_DATE_RANGE = f"between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}"

SchemeDate = Annotated[
    dt.date,
    AfterValidator(_plausible_day),
    Field(description=f"An ISO date {_DATE_RANGE}."),
]
Moment = Annotated[
    AwareDatetime,
    AfterValidator(_plausible_moment),
    Field(description=f"An ISO date and time with its offset, {_DATE_RANGE}."),
]


def nesting_problem(text: str) -> str | None:
    """Why `text` is nested too deeply to parse, found without parsing it (a JSON parser
    recurses once per level, so 5,000 levels would exhaust the stack); None when fine.
    Linear in the length of the text: only brackets, quotes and backslashes are visited."""
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return None  # cannot be deeper than the brackets it has
    depth = 0
    in_string = False
    escaped_at = -1
    for match in _STRUCTURE.finditer(text):
        at, char = match.start(), match.group()
        if at == escaped_at:
            continue
        if in_string:
            if char == "\\":
                escaped_at = at + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_NESTING:
                return f"JSON nested more than {MAX_NESTING} levels deep"
        elif char in "]}":
            depth -= 1
    return None


_STRUCTURE = re.compile(r'[\[\]{}"\\]')


@dataclass(frozen=True)
class SentLength:
    """The shortest text accepted, measured as sent (before surrounding whitespace is
    stripped), as version 1 of the contract states it. The text's validator checks it;
    it is kept in the field's metadata so what reads a field's limits finds it."""

    min_length: int


class WithJsonSchemaExtra:
    """Adds keys to a type's JSON Schema without enforcing them (the validator does)."""

    def __init__(self, extra: dict[str, Any]) -> None:
        self.extra = extra

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = handler(core_schema)
        schema.update(self.extra)
        return schema


Line = _text(LINE_MAX, multiline=False, min_length=None)
"""One line of text, at most `LINE_MAX` characters (may be empty)."""
NonEmptyLine = _text(LINE_MAX, multiline=False, min_length=1)
Text = _text(TEXT_MAX, multiline=True, min_length=None)
"""Text that may span lines, at most `TEXT_MAX` characters (may be empty)."""
NonEmptyText = _text(TEXT_MAX, multiline=True, min_length=1)
