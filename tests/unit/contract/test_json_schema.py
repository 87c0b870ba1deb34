"""`capital events schema` is a standard JSON Schema: any validator gives the codec's verdict."""

from __future__ import annotations

import json
import uuid

import pytest
from typer.testing import CliRunner

from capital.cli import app
from capital.transports import Handler, Message
from events import EventType, decode_envelope, topics
from events.envelope import TYPE_ALIASES
from events.schema import MESSAGES, message_schema
from tests.builders import operator_as
from tests.conftest import SAMPLE_PROGRAMME
from tests.unit.contract.validation import problems, validator_for

ENVELOPE = validator_for("envelope")


def envelope(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "event_id": str(uuid.uuid4()),
        "type": "budget.changed",
        "scheme_id": "CYPE-018",
        "occurred_on": "2024-03-01",
        "payload": {"funding_source": "CCIP6", "amount": 8500.10, "reason": "asbestos"},
    }
    body.update(overrides)
    return body


def without(body: dict[str, object], name: str) -> dict[str, object]:
    return {key: value for key, value in body.items() if key != name}


REFUSED = {
    "an unknown event type": (envelope(type="scheme.demolished"), "type"),
    "a budget.changed without its funding source": (
        envelope(payload={"amount": 8500.10, "reason": "asbestos"}),
        "'funding_source' is a required property",
    ),
    "an occurred_on that is not a date": (envelope(occurred_on="2024-02-30"), "occurred_on"),
    "an event_id that is not a UUID": (envelope(event_id="123"), "event_id"),
    "an envelope with no scheme_id": (
        without(envelope(), "scheme_id"),
        "'scheme_id' is a required",
    ),
}


@pytest.mark.parametrize("name", REFUSED)
def test_the_standard_validator_refuses_what_the_codec_refuses(name):
    body, expected = REFUSED[name]
    text = json.dumps(body)
    found = problems(ENVELOPE, text)
    assert any(expected in problem for problem in found), found
    with pytest.raises(ValueError):
        decode_envelope(text)


def test_every_event_of_the_sample_programme_is_valid():
    lines = SAMPLE_PROGRAMME.read_text().splitlines()
    assert lines
    for line in lines:
        decode_envelope(line)
        assert problems(ENVELOPE, line) == [], line


@pytest.mark.parametrize("name", [t.value for t in EventType] + sorted(TYPE_ALIASES))
def test_every_type_and_alias_chooses_its_payload(name):
    """An empty payload is valid exactly for the types whose payload has no required field."""
    text = json.dumps(envelope(type=name, payload={}))
    try:
        decode_envelope(text)
        accepted = True
    except ValueError:
        accepted = False
    assert (problems(ENVELOPE, text) == []) is accepted
    wrong_field = json.dumps(envelope(type=name, payload={"no_such_field": 1}))
    assert problems(ENVELOPE, wrong_field), f"{name} accepted an unknown payload field"


def test_the_dates_uuids_and_date_times_are_checked_as_formats():
    for body in (
        envelope(recorded_at="2024-03-01T25:00:00Z"),
        envelope(recorded_at="2024-03-01T10:00:00"),
        envelope(occurred_on=20240301),
        envelope(event_id="1b4e28ba2fa111d2883f0016d3cca427"),
    ):
        text = json.dumps(body)
        assert problems(ENVELOPE, text), body
        with pytest.raises(ValueError):
            decode_envelope(text)


def recording(handler: Handler, sent: list[Message]) -> Handler:
    def handle(raw: bytes) -> list[Message]:
        messages = handler(raw)
        sent.extend(messages)
        return messages

    return handle


def test_every_message_the_product_emits_is_valid_under_its_schema(container):
    from capital.application.publishing import parse_lines, publish

    sent: list[Message] = []
    for topic, handler in list(container.routes.items()):
        container.routes[topic] = recording(handler, sent)
    numbered, errors = parse_lines(SAMPLE_PROGRAMME.read_bytes().split(b"\n"))
    assert not errors
    publish(container, numbered, operator_as("estates.pm", container), None)
    container.publisher.send([Message(topics.SCHEME_EVENTS, b"CYPE-018", b"{not json")])
    # An old history: its alerts wait for the digest, and the morning's sweep raises them.
    container.run_daily_sweep(container.settings.current_date())
    sent.extend(m for m in container.publisher.delivered if m.topic == topics.ALERTS)

    message_of_topic = {
        topics.STATE_CHANGES: "state-change",
        topics.ALERTS: "alert",
        topics.DEAD_LETTERS: "dead-letter",
    }
    seen = {message_of_topic[m.topic] for m in sent}
    assert seen == set(message_of_topic.values())
    validators = {name: validator_for(name) for name in MESSAGES}
    for message in sent:
        found = problems(validators[message_of_topic[message.topic]], message.value)
        assert found == [], (message.topic, found)


def progress(**payload: object) -> dict[str, object]:
    return envelope(type="progress.reported", payload={"note": "on site", **payload})


LENIENT_FORMS = {
    "a unix timestamp as a date": (envelope(occurred_on=1709251200), "occurred_on"),
    "a UUID without hyphens": (envelope(event_id=uuid.uuid4().hex), "event_id"),
    "a UUID as a URN": (envelope(event_id=f"urn:uuid:{uuid.uuid4()}"), "event_id"),
    "an offset without a colon": (envelope(recorded_at="2024-03-01T10:00:00+0100"), "recorded_at"),
    "a date-time without seconds": (envelope(recorded_at="2024-03-01T10:00Z"), "recorded_at"),
    "an amount with an exponent": (
        envelope(payload={"funding_source": "CCIP6", "amount": "1e3", "reason": "x"}),
        "payload.amount",
    ),
    "an amount with separators": (
        envelope(payload={"funding_source": "CCIP6", "amount": "1_000", "reason": "x"}),
        "payload.amount",
    ),
    "a percentage as text": (progress(percent_complete="50"), "payload.percent_complete"),
    "a percentage as a boolean": (progress(percent_complete=True), "payload.percent_complete"),
    "a boolean as the version": (envelope(version=True), "version"),
}


@pytest.mark.parametrize("name", LENIENT_FORMS)
def test_forms_pydantic_would_coerce_are_refused_by_both(name):
    """The codec used to accept these; another system's validator never would."""
    body, field = LENIENT_FORMS[name]
    text = json.dumps(body)
    assert problems(ENVELOPE, text)
    with pytest.raises(ValueError, match=f"{field}: "):
        decode_envelope(text)


@pytest.mark.parametrize("name", MESSAGES)
def test_the_release_command_writes_the_schema_of_the_models(name, tmp_path):
    written = tmp_path / f"{name}.json"
    result = CliRunner().invoke(
        app, ["events", "schema", "--message", name, "--output", str(written)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(written.read_text(encoding="utf-8")) == message_schema(name)
