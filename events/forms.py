"""Payloads from text a person typed (command-line flags, a web form), field by field.

The fields come from the payload models themselves, so an event type added to
`events.payloads` gets its flags and form fields without a hand-kept list. Each value is
read as people write it: dates day first (`11/04/2025`) or ISO, money with `£`, commas and
`k`/`m` (`£4,250,000`, `£4.25m`, `£785k`), `none` to clear a value that may be null.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from events.envelope import PAYLOAD_MODELS, EventType
from events.values import parse_day, parse_money


@dataclass(frozen=True)
class FormField:
    """One field as a person fills it in: its name, what it holds, and which event types
    take it (and of those, which require it)."""

    name: str
    kind: str  # "date", "money", "whole number", "choice", "text" or "list"
    description: str | None
    choices: tuple[str, ...]
    parts: tuple[str, ...]
    """For a list: the item's fields, typed in order and separated by ':'."""
    taken_by: tuple[EventType, ...]
    required_by: tuple[EventType, ...]

    @property
    def repeated(self) -> bool:
        return self.kind == "list"


def fields_of(event_type: EventType) -> dict[str, FieldInfo]:
    return dict(PAYLOAD_MODELS[event_type].model_fields)


def form_fields() -> list[FormField]:
    """Every payload field of every event type, once, in the order the types declare them."""
    found: dict[str, FormField] = {}
    for event_type in PAYLOAD_MODELS:
        for name, info in fields_of(event_type).items():
            earlier = found.get(name)
            required = (event_type,) if info.is_required() else ()
            if earlier is None:
                kind, choices, parts = _kind(info.annotation)
                if choices and _nullable(info.annotation):
                    choices = (*choices, "none")
                found[name] = FormField(
                    name, kind, info.description, choices, parts, (event_type,), required
                )
            else:
                found[name] = FormField(
                    name,
                    earlier.kind,
                    earlier.description or info.description,
                    earlier.choices,
                    earlier.parts,
                    (*earlier.taken_by, event_type),
                    (*earlier.required_by, *required),
                )
    return list(found.values())


class FormProblems(ValueError):
    """The fields that could not be read, each with why: `{field: reason}`."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {why}" for name, why in problems.items()))
        self.problems = problems


def read_payload(event_type: EventType, typed: Mapping[str, str | Sequence[str]]) -> dict:
    """The payload of `event_type` from what was typed for each field (a list of texts for
    a list field). The result still goes through the payload model; FormProblems names
    every field that is not one of the type's or could not be read."""
    fields = fields_of(event_type)
    payload: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name, value in typed.items():
        info = fields.get(name)
        if info is None:
            problems[name] = f"{event_type.value} does not take it"
            continue
        try:
            payload[name] = _read(info, value)
        except ValueError as error:
            problems[name] = str(error)
    for name, info in fields.items():
        if info.is_required() and name not in typed:
            problems[name] = "Field required"  # as the model would say
    if problems:
        raise FormProblems(problems)
    return payload


def _read(info: FieldInfo, value: str | Sequence[str]) -> Any:
    kind, _, parts = _kind(info.annotation)
    if kind == "list":
        texts = [value] if isinstance(value, str) else list(value)
        return [_read_item(text, parts, _item_model(info.annotation)) for text in texts]
    if not isinstance(value, str):
        raise ValueError("give it once")
    if value.strip().lower() == "none" and _nullable(info.annotation):
        return None
    return _read_text(kind, value)


def _read_text(kind: str, text: str) -> Any:
    if kind == "date":
        return parse_day(text)
    if kind == "money":
        return parse_money(text)
    if kind == "whole number":
        try:
            return int(text.strip().removesuffix("%"))
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
    if kind == "choice":
        return text.strip().lower()
    return text


def _read_item(text: str, parts: tuple[str, ...], model: type[BaseModel] | None) -> dict:
    values = text.split(":")
    required = [n for n, f in model.model_fields.items() if f.is_required()] if model else []
    if not len(required) <= len(values) <= len(parts):
        usage = ":".join(_shown_parts(parts, required)).replace(":[", "[:")
        raise ValueError(f"{text!r}: use {usage}")
    item: dict[str, Any] = {}
    assert model is not None
    for name, piece in zip(parts, values, strict=False):
        kind, _, _ = _kind(model.model_fields[name].annotation)
        try:
            item[name] = _read_text(kind, piece)
        except ValueError as error:
            raise ValueError(f"{text!r}: {name}: {error}") from None
    return item


def _shown_parts(parts: tuple[str, ...], required: list[str]) -> Iterator[str]:
    for name in parts:
        yield name.upper() if name in required else f"[{name.upper()}]"


def usage_of_parts(field: FormField) -> str:
    """How a list field's items are typed: `SOURCE:AMOUNT[:APPROVED_ON]`."""
    model = _item_model(fields_of(field.taken_by[0])[field.name].annotation)
    required = [n for n, f in model.model_fields.items() if f.is_required()] if model else []
    return "".join(
        (":" if i else "") + p if not p.startswith("[") else f"[:{p[1:]}"
        for i, p in enumerate(_shown_parts(field.parts, required))
    )


def _kind(annotation: Any) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    core = _core(annotation)
    origin = typing.get_origin(core)
    if origin is list:
        model = _item_model(annotation)
        return "list", (), tuple(model.model_fields) if model else ()
    if origin is typing.Literal:
        return "choice", tuple(str(v) for v in typing.get_args(core)), ()
    if isinstance(core, type):
        if issubclass(core, Enum):
            return "choice", tuple(str(member.value) for member in core), ()
        if issubclass(core, dt.date):
            return "date", (), ()
        if issubclass(core, Decimal):
            return "money", (), ()
        if issubclass(core, int) and not issubclass(core, bool):
            return "whole number", (), ()
    return "text", (), ()


def _core(annotation: Any) -> Any:
    """The type under Optional and Annotated: `SchemeDate | None` -> date."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _nullable(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    return origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation)


def _item_model(annotation: Any) -> type[BaseModel] | None:
    core = _core(annotation)
    if typing.get_origin(core) is not list:
        return None
    (item,) = typing.get_args(core)
    item = _core(item)
    return item if isinstance(item, type) and issubclass(item, BaseModel) else None
