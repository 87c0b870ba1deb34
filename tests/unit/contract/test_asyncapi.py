"""The AsyncAPI document carries the same message schemas as `events/schemas/`.

(The document's own validity is checked by the AsyncAPI parser in
tests/integration/test_asyncapi_document.py.)"""

from __future__ import annotations

import json

import pytest

from events.asyncapi import asyncapi_document
from events.schema import DIALECT
from tests.conftest import SAMPLE_PROGRAMME
from tests.unit.contract.validation import problems, standard_validator

DOCUMENT = asyncapi_document("eh.", "kafka.council.example:9092")


def payload_validator(message: str):
    reference = DOCUMENT["components"]["messages"][message]["payload"]["$ref"]
    return standard_validator(
        {"$schema": DIALECT, "$ref": reference, "components": DOCUMENT["components"]}
    )


def test_topic_names_carry_the_deployments_prefix_and_keys_are_described():
    channels = DOCUMENT["channels"]
    assert channels["schemeEvents"]["address"] == "eh.capital.scheme-events"
    key = DOCUMENT["components"]["messages"]["envelope"]["bindings"]["kafka"]["key"]
    assert "scheme id, UTF-8" in key["description"]
    assert DOCUMENT["servers"]["kafka"]["host"] == "kafka.council.example:9092"


def test_each_topic_names_who_publishes_and_who_consumes():
    operations = DOCUMENT["operations"].values()
    by_channel: dict[str, set[tuple[str, str]]] = {}
    for operation in operations:
        channel = operation["channel"]["$ref"].rsplit("/", 1)[1]
        by_channel.setdefault(channel, set()).add(
            (operation["action"], operation["tags"][0]["name"])
        )
    assert ("receive", "tracker") in by_channel["schemeEvents"]
    assert ("send", "tracker") in by_channel["schemeStateChanges"]
    assert ("receive", "notifier") in by_channel["schemeStateChanges"]
    assert ("send", "notifier") in by_channel["alerts"]


@pytest.mark.parametrize("line", SAMPLE_PROGRAMME.read_text().splitlines()[:5])
def test_the_envelope_payload_schema_accepts_real_events(line):
    assert problems(payload_validator("envelope"), line) == []


def test_the_envelope_payload_schema_refuses_a_budget_change_without_its_source():
    event = json.loads(SAMPLE_PROGRAMME.read_text().splitlines()[0])
    event.update(type="budget.changed", payload={"amount": 1, "reason": "x"})
    assert problems(payload_validator("envelope"), json.dumps(event))
