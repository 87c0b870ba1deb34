"""The envelope and the codec: what producers may send and what they are told."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest

from events import DecodeError, EventType, decode_envelope, encode
from events.schema import json_schema
from tests.builders import registered


def envelope(**overrides) -> str:
    body = {
        "event_id": str(uuid.uuid4()),
        "type": "budget.changed",
        "scheme_id": "CYPE-018",
        "occurred_on": "2024-03-01",
        "payload": {"funding_source": "CCIP6", "amount": 8500.10, "reason": "asbestos"},
    }
    body.update(overrides)
    return json.dumps(body)


def test_amounts_are_decimal_even_when_sent_as_json_numbers():
    event = decode_envelope(envelope())
    assert event.payload.amount == Decimal("8500.10")
    assert isinstance(event.payload.amount, Decimal)


def test_an_encoded_event_decodes_to_the_same_event():
    event = registered(funding=[{"source": "DfE", "amount": "99.99", "approved_on": "2024-01-01"}])
    assert decode_envelope(encode(event)) == event


def test_aliases_are_stored_under_the_canonical_type():
    event = decode_envelope(
        envelope(type="snag.raised", payload={"snag_id": "S1", "description": "door"})
    )
    assert event.type is EventType.snagging_raised


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (envelope(type="scheme.demolished"), "unknown event type 'scheme.demolished'"),
        (envelope(occurred_on="2024-02-30"), "occurred_on"),
        (envelope(payload={"funding_source": "CCIP6", "reason": "x"}), "payload.amount"),
        (
            envelope(type="scheme.registered", payload={"title": "X", "budget": -1}),
            "payload.budget: Input should be greater than or equal to 0",
        ),
        (envelope(event_id="123"), "event_id"),
        (envelope(scheme_id=""), "scheme_id"),
        (
            envelope(payload={"funding_source": "CCIP6", "amount": 1, "reason": "x", "extra": 1}),
            "payload.extra",
        ),
    ],
)
def test_bad_input_is_refused_with_the_field_named(text, reason):
    with pytest.raises(DecodeError, match=reason):
        decode_envelope(text)


def test_every_problem_is_reported_at_once():
    with pytest.raises(DecodeError) as caught:
        decode_envelope(envelope(occurred_on="soon", payload={"reason": "x"}))
    assert "occurred_on" in caught.value.reason
    assert "payload.funding_source" in caught.value.reason
    assert "payload.amount" in caught.value.reason


def test_json_schema_chooses_a_payload_for_every_event_type():
    schema = json_schema()
    chosen = {rule["if"]["properties"]["type"]["enum"][0] for rule in schema["allOf"]}
    assert chosen == {t.value for t in EventType}
    assert "event_id" in schema["required"]


def test_a_recorded_at_without_a_time_zone_is_refused():
    with pytest.raises(DecodeError, match="recorded_at"):
        decode_envelope(envelope(recorded_at="2024-01-01T10:00:00"))


def test_an_unknown_envelope_version_is_refused():
    with pytest.raises(DecodeError, match="version"):
        decode_envelope(envelope(version=99))
