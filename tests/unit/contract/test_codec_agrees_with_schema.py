"""Property: the standard validator and the product's codec give the same verdict.

Events are generated from the payload models (their fields, types and limits), then some
are mutated the ways producers get them wrong: a field dropped, a value of the wrong type,
a bad date, an unknown type, a malformed UUID, odd text or amounts, an extra field.
"""

from __future__ import annotations

import datetime as dt
import math
import types
import uuid
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import simplejson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AwareDatetime, BaseModel

from events import DecodeError, decode_envelope
from events.envelope import PAYLOAD_MODELS, TYPE_ALIASES, Envelope, canonical_type
from events.limits import EARLIEST_DATE, LATEST_DATE
from events.wire import WHITESPACE
from tests.unit.contract.validation import problems, validator_for

ENVELOPE = validator_for("envelope")
TYPE_NAMES = [t.value for t in PAYLOAD_MODELS] + sorted(TYPE_ALIASES)
# Whitespace that may surround valid text (control characters never may: events.limits).
SPACES = " \xa0\u1680\u2000\u2001\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
assert all(ch in SPACES or ch not in WHITESPACE for ch in SPACES)
TEXT = st.characters(
    exclude_categories=("Cs", "Cc"),
    exclude_characters="\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
)
LIMITS = (
    "min_length",
    "max_length",
    "pattern",
    "ge",
    "gt",
    "le",
    "lt",
    "max_digits",
    "decimal_places",
)
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def limits(metadata: list[Any]) -> dict[str, Any]:
    """The limits pydantic keeps in a field's metadata, whatever object holds them."""
    found: dict[str, Any] = {}
    for item in metadata:
        found.update(limits(getattr(item, "metadata", []) or []))
        for name in LIMITS:
            if getattr(item, name, None) is not None:
                found[name] = getattr(item, name)
    return found


def strip(text: str) -> str:
    return text.strip(SPACES)


def text_values(found: dict[str, Any]) -> st.SearchStrategy[str]:
    shortest, longest = found.get("min_length", 0), found.get("max_length")
    if "pattern" in found:
        return st.from_regex(found["pattern"], fullmatch=True).filter(
            lambda s: shortest <= len(s) <= (longest or len(s))
        )
    padding = st.text(alphabet=SPACES, max_size=2)
    core = st.text(alphabet=TEXT, min_size=shortest, max_size=min(longest or 30, 30))
    return (
        st.tuples(padding, core, padding)
        .map("".join)
        .filter(lambda s: shortest <= len(strip(s)) <= (longest or len(s)))
    )


def money_values(found: dict[str, Any]) -> st.SearchStrategy[Any]:
    places = found.get("decimal_places", 2)
    whole = found.get("max_digits", 15) - places
    step = Decimal(1).scaleb(-places)
    bound = Decimal(10**whole) - step
    lowest = found["gt"] + step if "gt" in found else found.get("ge", -bound)
    amounts = st.decimals(min_value=lowest, max_value=bound, places=places, allow_nan=False)
    return st.one_of(amounts, amounts.map(str), st.integers(max(math.ceil(lowest), 0), 10**6))


def values_of(annotation: Any, found: dict[str, Any]) -> st.SearchStrategy[Any]:
    origin, arguments = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return values_of(arguments[0], {**found, **limits(list(arguments[1:]))})
    if origin in (Union, types.UnionType):
        options = [a for a in arguments if a is not type(None)]
        return st.one_of(st.none(), *(values_of(a, found) for a in options))
    if origin is list:
        return st.lists(values_of(arguments[0], found), max_size=3)
    if origin is Literal:
        return st.sampled_from(arguments)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return objects_of(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return st.sampled_from([member.value for member in annotation])
    if annotation is AwareDatetime:
        offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(
            lambda m: dt.timezone(dt.timedelta(minutes=m))
        )
        # A day inside the plausible range whatever the offset (events.limits).
        moments = st.datetimes(
            dt.datetime.combine(EARLIEST_DATE, dt.time()) + dt.timedelta(days=1),
            dt.datetime.combine(LATEST_DATE, dt.time()) - dt.timedelta(days=1),
        )
        return st.builds(lambda when, zone: when.replace(tzinfo=zone).isoformat(), moments, offsets)
    if annotation is dt.date:
        return st.dates(EARLIEST_DATE, LATEST_DATE).map(dt.date.isoformat)
    if annotation is uuid.UUID:
        return st.uuids().map(str)
    if annotation is Decimal:
        return money_values(found)
    if annotation is int:
        lowest = found["gt"] + 1 if "gt" in found else found.get("ge", -(10**6))
        highest = found["lt"] - 1 if "lt" in found else found.get("le", 10**6)
        return st.integers(lowest, highest)
    if annotation is str:
        return text_values(found)
    raise NotImplementedError(f"no values for {annotation!r}: teach this test its JSON form")


@st.composite
def objects_of(draw: st.DrawFn, model: type[BaseModel]) -> dict[str, Any]:
    body = {}
    for name, field in model.model_fields.items():
        if field.is_required() or draw(st.booleans()):
            body[name] = draw(values_of(field.annotation, limits(field.metadata)))
    return body


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    body = draw(objects_of(Envelope).filter(lambda b: "payload" not in b))
    name = draw(st.sampled_from(TYPE_NAMES))
    body["type"] = name
    body["payload"] = draw(objects_of(PAYLOAD_MODELS[canonical_type(name)]))
    return body


def fields_of(body: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """Every (object, key) in an event, envelope and payload, nested lines included."""
    found = [(body, key) for key in body]
    pending = [body.get("payload")]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            found.extend((node, key) for key in node)
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


WRONG_TYPES = st.one_of(
    st.booleans(),
    st.integers(),
    # Two places at most: a JSON number's decimal places are the one limit the schema
    # cannot state (events.schema), so a third place on an amount is the product's to refuse.
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=1),
    st.none(),
)
BAD_DATES = st.one_of(
    st.sampled_from(
        ["2024-02-30", "2024-3-1", "20240301", "2024-03-01T00:00:00", "0000-01-01", "soon"]
    ),
    st.sampled_from([0, 1709251200, " 2024-03-01", "2024-03-01\n", "2024-13-01"]),
    st.text(max_size=12),
)
ODD_AMOUNTS = st.one_of(
    st.sampled_from(
        ["1e3", " 5", "5 ", "1_000", ".5", "5.", "+5", "-0", "-0.00", "-1", "0.001", "1.500"]
    ),
    st.sampled_from(["12345678901234", "1234567890123.45", "٣", "", "-", "NaN", "0x10", True]),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)
ODD_TEXT = st.one_of(
    st.text(alphabet=SPACES, max_size=3),
    st.text(alphabet=TEXT, max_size=3).map(lambda s: f"\x1c{s}\ufeff"),
    st.text(max_size=300),
)


def bad_uuids(valid: str) -> st.SearchStrategy[Any]:
    return st.sampled_from(
        [
            valid.replace("-", ""),
            "{" + valid + "}",
            "urn:uuid:" + valid,
            valid.upper(),
            valid[:-1],
            valid + "\n",
            "123",
            12,
        ]
    )


MUTATIONS = (
    "drop",
    "wrong type",
    "bad date",
    "unknown type",
    "bad uuid",
    "text",
    "amount",
    "extra",
)


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    body = draw(events())
    mutation = draw(st.sampled_from(MUTATIONS))
    owner, key = draw(st.sampled_from(fields_of(body)))
    if mutation == "drop":
        del owner[key]
    elif mutation == "wrong type":
        owner[key] = draw(WRONG_TYPES)
    elif mutation == "bad date":
        owner[key] = draw(BAD_DATES)
    elif mutation == "unknown type":
        body["type"] = draw(st.text(max_size=20))
    elif mutation == "bad uuid":
        body["event_id"] = draw(bad_uuids(body["event_id"]))
    elif mutation == "text":
        owner[key] = draw(ODD_TEXT)
    elif mutation == "amount":
        owner[key] = draw(ODD_AMOUNTS)
    else:
        owner[draw(st.text(min_size=1, max_size=8))] = draw(WRONG_TYPES)
    return body


def codec_accepts(text: str) -> bool:
    try:
        decode_envelope(text)
    except DecodeError:
        return False
    return True


def as_json(body: dict[str, Any]) -> str:
    return simplejson.dumps(body, use_decimal=True)


@PROPERTY
@given(events())
def test_every_generated_event_is_accepted_by_both(body):
    text = as_json(body)
    assert problems(ENVELOPE, text) == []
    assert codec_accepts(text)


@PROPERTY
@given(mutated_events())
def test_the_validator_and_the_codec_agree_on_mutated_events(body):
    text = as_json(body)
    found = problems(ENVELOPE, text)
    accepted = codec_accepts(text)
    detail = "" if accepted else decode_error(text)
    assert (found == []) is accepted, f"{text}\nschema: {found}\ncodec: {detail or 'accepted'}"


def decode_error(text: str) -> str:
    try:
        decode_envelope(text)
    except DecodeError as error:
        return error.reason
    return ""
