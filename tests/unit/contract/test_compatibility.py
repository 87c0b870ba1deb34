"""A change to the models that would break producers or consumers fails; additions pass."""

from __future__ import annotations

import copy
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from events.compatibility import breaking_changes
from events.schema import MESSAGE_VERSIONS, MESSAGES, ContractJsonSchema, message_schema

RELEASED = Path(__file__).resolve().parents[3] / "events" / "schemas"


class Colour(StrEnum):
    red = "red"
    green = "green"


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Released(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text
    amount: Annotated[int, Field(ge=0, le=100)]
    colour: Colour
    note: str | None = None
    which: Literal["programme", "budget"] = "programme"


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(schema_generator=ContractJsonSchema)


def changes_from_released_to(model: type[BaseModel]) -> list[str]:
    return [str(change) for change in breaking_changes(schema_of(Released), schema_of(model))]


class FieldRemoved(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Annotated[int, Field(ge=0, le=100)]
    colour: Colour
    note: str | None = None
    which: Literal["programme", "budget"] = "programme"


class OptionalMadeRequired(Released):
    note: str


class ValueNarrowed(Released):
    amount: Annotated[int, Field(ge=0, le=50)]
    colour: Literal["red"]
    which: Literal["programme"] = "programme"


class TextShortened(Released):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class TypeChanged(Released):
    amount: str


class Added(Released):
    """New optional field, a wider limit, another allowed value, a longer text: additive."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]
    amount: Annotated[int, Field(ge=0, le=1000)]
    which: Literal["programme", "budget", "overall"] = "programme"
    contractor: str | None = None


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (FieldRemoved, "$.reason: field removed"),
        (OptionalMadeRequired, "$.note: made required"),
        (ValueNarrowed, "$.amount: maximum tightened from 100 to 50"),
        (ValueNarrowed, "$.which: values removed: ['budget']"),
        (ValueNarrowed, "$.colour: "),
        (TextShortened, "$.reason: maxLength tightened from 200 to 80"),
        (TypeChanged, "$.amount: type ['integer'] no longer allowed"),
    ],
)
def test_a_breaking_change_is_reported(model, expected):
    changes = changes_from_released_to(model)
    assert any(change.startswith(expected) for change in changes), changes


def test_an_additive_change_passes():
    assert changes_from_released_to(Added) == []


def test_removing_an_event_type_or_alias_from_the_envelope_is_breaking():
    released = message_schema("envelope")
    current = copy.deepcopy(released)
    current["properties"]["type"]["enum"].remove("snag.raised")
    current["allOf"] = [
        r
        for r in current["allOf"]
        if r["if"]["properties"]["type"]["enum"][0] != "forecast.revised"
    ]
    changes = [str(change) for change in breaking_changes(released, current)]
    assert "$.type: values removed: ['snag.raised']" in changes
    assert "$[forecast.revised]: rule removed" in changes


def test_a_new_event_type_is_additive():
    released = message_schema("envelope")
    current = copy.deepcopy(released)
    current["properties"]["type"]["enum"].append("scheme.inspected")
    current["allOf"].append(
        {
            "if": {"properties": {"type": {"enum": ["scheme.inspected"]}}, "required": ["type"]},
            "then": {"properties": {"payload": {"$ref": "#/$defs/WithReason"}}},
        }
    )
    assert breaking_changes(released, current) == []


@pytest.mark.parametrize("name", MESSAGES)
def test_the_models_do_not_break_the_released_schema(name):
    """The released schema (events/schemas/NAME.vN.json) against the models as they are."""
    version = MESSAGE_VERSIONS[name]
    path = RELEASED / f"{name}.v{version}.json"
    refresh = f"capital events schema --message {name} --output events/schemas/{path.name}"
    assert path.is_file(), f"{path.name} is not released yet: run `{refresh}` and commit it"
    released = json.loads(path.read_text(encoding="utf-8"))
    current = message_schema(name)
    changes = breaking_changes(released, current)
    if changes:
        pytest.fail(
            f"the models break the released {name} schema v{version}:\n  "
            + "\n  ".join(map(str, changes))
            + "\nProducers and consumers built against it would fail. Make the change "
            "additive, or release a new version that the product reads beside the old one "
            "(docs/events.md, 'Changing the contract')."
        )
    if released != current:
        pytest.fail(
            f"the models changed the {name} schema compatibly; release the change with "
            f"`{refresh}` and commit the file"
        )
