"""Standard JSON Schemas (draft 2020-12) of every message on the topics, generated from the
models so a limit added to a model reaches the schema without anyone editing it.

The root of each schema validates one message. For scheme events the payload is chosen by
`type` (each canonical name and its aliases) with `if`/`then`, which every draft 2020-12
validator applies. Values carry the same wire forms the codec checks (`events.wire`) and the
same limits pydantic enforces, including text that pydantic strips before measuring.

One limit cannot be stated portably: the decimal places of an amount sent as a JSON
*number* (validators read numbers as binary floats, so `multipleOf: 0.01` would refuse
0.29). An amount sent as a string is checked exactly; a number's places are checked by the
product. The property tests hold the two verdicts equal everywhere else.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from events import wire
from events.alerts import AlertRaised
from events.dead_letters import DeadLetter
from events.envelope import ENVELOPE_VERSION, PAYLOAD_MODELS, TYPE_ALIASES, Envelope, EventType
from events.state import SchemeStateChanged

DIALECT = "https://json-schema.org/draft/2020-12/schema"

MESSAGES: dict[str, tuple[type[BaseModel], str]] = {
    "envelope": (Envelope, "Capital Tracker scheme event"),
    "state-change": (SchemeStateChanged, "Capital Tracker scheme state change"),
    "alert": (AlertRaised, "Capital Tracker alert"),
    "dead-letter": (DeadLetter, "Capital Tracker dead letter"),
}
"""Each message's name (used in file names and the AsyncAPI document), model and title."""

MESSAGE_VERSIONS = {"envelope": ENVELOPE_VERSION, "state-change": 1, "alert": 1, "dead-letter": 1}


class ContractJsonSchema(GenerateJsonSchema):
    """Pydantic's generator, stating what pydantic enforces but does not write down."""

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        json_schema = super().str_schema(schema)
        if schema.get("strip_whitespace"):
            return _measured_after_stripping(json_schema)
        return json_schema

    def date_schema(self, schema: core_schema.DateSchema) -> JsonSchemaValue:
        return {"type": "string", "format": "date", "pattern": wire.DATE_PATTERN}

    def datetime_schema(self, schema: core_schema.DatetimeSchema) -> JsonSchemaValue:
        return {"type": "string", "format": "date-time", "pattern": wire.DATETIME_PATTERN}

    def uuid_schema(self, schema: core_schema.UuidSchema) -> JsonSchemaValue:
        return {"type": "string", "format": "uuid", "pattern": wire.UUID_PATTERN}

    def decimal_schema(self, schema: core_schema.DecimalSchema) -> JsonSchemaValue:
        unsupported = [k for k in ("le", "lt", "multiple_of") if schema.get(k) is not None]
        unsupported += [k for k in ("ge", "gt") if schema.get(k) not in (None, 0)]
        if unsupported:
            raise NotImplementedError(
                f"decimal limit {unsupported} has no JSON Schema form yet: add it to "
                "events.schema.ContractJsonSchema.decimal_schema"
            )
        sign = "positive" if schema.get("gt") is not None else "any"
        sign = "non-negative" if schema.get("ge") is not None else sign
        places = schema.get("decimal_places")
        digits = schema.get("max_digits")
        whole = None if digits is None or places is None else digits - places
        number: dict[str, Any] = {"type": "number"}
        if sign == "non-negative":
            number["minimum"] = 0
        elif sign == "positive":
            number["exclusiveMinimum"] = 0
        elif whole is not None:
            number["exclusiveMinimum"] = -(10**whole)
        if whole is not None:
            number["exclusiveMaximum"] = 10**whole
        text = {"type": "string", "pattern": decimal_text_pattern(whole, places, sign)}
        money: dict[str, Any] = {"anyOf": [number, text]}
        if places is not None:
            money["$comment"] = (
                f"At most {places} decimal places: checked here for text; for a JSON number, "
                "by the product (validators read numbers as binary floats)."
            )
        return money


def decimal_text_pattern(whole: int | None, places: int | None, sign: str = "any") -> str:
    """Decimal text as pydantic reads it: leading zeros and trailing fraction zeros do not
    count towards `whole` digits or `places`; `-0` is zero, so not negative. `sign` is
    `any`, `non-negative` or `positive`."""
    whole_part = "0*[0-9]*" if whole is None else f"0*[0-9]{{0,{whole}}}"
    fraction = r"(?:\.[0-9]*)?" if places is None else rf"(?:\.[0-9]{{0,{places}}}0*)?"
    magnitude = whole_part + fraction
    some_digit = r"(?=[+-]?\.?[0-9])"
    if sign == "any":
        return rf"^{some_digit}[+-]?{magnitude}{wire.END}"
    zero = r"0*(?:\.0*)?"
    if sign == "non-negative":
        return rf"^{some_digit}(?:\+?{magnitude}|-{zero}){wire.END}"
    return rf"^{some_digit}(?![+-]?{zero}{wire.END})\+?{magnitude}{wire.END}"


def _measured_after_stripping(json_schema: JsonSchemaValue) -> JsonSchemaValue:
    """Pydantic strips surrounding whitespace before it checks length and pattern; state
    the same of the raw text in one pattern."""
    shortest = json_schema.get("minLength", 0)
    longest = json_schema.pop("maxLength", None)
    stated = json_schema.pop("pattern", None)
    json_schema["$comment"] = wire.TRIMMED_COMMENT.format(
        low=shortest, high="" if longest is None else longest, shape=stated or "any"
    )
    ws, solid, anything = wire.WHITESPACE, wire.NOT_WHITESPACE, wire.ANY_CHARACTER
    if longest is None and stated is None and shortest <= 1:
        if shortest == 1:
            json_schema["pattern"] = solid  # found anywhere: not only whitespace
        return json_schema
    choices = []
    if shortest <= 1 and (longest is None or longest >= 1):
        choices.append(solid)
    if longest is None or longest >= 2:
        upper = "" if longest is None else longest - 2
        choices.append(f"{solid}{anything}{{{max(shortest - 2, 0)},{upper}}}{solid}")
    if not choices:
        raise NotImplementedError(f"text limits {shortest}..{longest} cannot be stated")
    core = f"(?:{'|'.join(choices)})" + ("?" if shortest == 0 else "")
    shape = ""
    if stated is not None:
        if not (stated.startswith("^") and stated.endswith("$")):
            raise NotImplementedError(f"pattern {stated!r} must be anchored with ^ and $")
        shape = f"(?=(?:{stated[1:-1]}){ws}*{wire.END})"
    json_schema["pattern"] = f"^{ws}*{shape}{core}{ws}*{wire.END}"
    return json_schema


def message_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of one message (`envelope`, `state-change`, `alert`, `dead-letter`)."""
    model, title = MESSAGES[name]
    payloads = list(dict.fromkeys(PAYLOAD_MODELS.values()))
    refs, top = models_json_schema(
        [(m, "validation") for m in [model, *payloads]],
        ref_template="#/$defs/{model}",
        schema_generator=ContractJsonSchema,
    )
    definitions: dict[str, Any] = top["$defs"]
    if "Envelope" in definitions:
        payload_refs = {m: refs[(m, "validation")]["$ref"] for m in payloads}
        _choose_payload_by_type(definitions["Envelope"], payload_refs)
        definitions.pop("Payload", None)
        definitions.pop("EventType", None)
    root = definitions.pop(refs[(model, "validation")]["$ref"].rsplit("/", 1)[1])
    used = _referenced(root, definitions)
    return {
        "$schema": DIALECT,
        "title": title,
        **{k: v for k, v in root.items() if k != "title"},
        "$defs": {key: definitions[key] for key in sorted(used)},
    }


def json_schema() -> dict[str, Any]:
    """The scheme event envelope's schema: what `capital events schema` writes."""
    return message_schema("envelope")


def _choose_payload_by_type(envelope: dict[str, Any], payload_refs: dict[type, str]) -> None:
    names = [t.value for t in EventType] + sorted(TYPE_ALIASES)
    properties = envelope["properties"]
    properties["type"] = {
        "description": "The event type; aliases are stored under their canonical name.",
        "type": "string",
        "enum": names,
    }
    properties["payload"] = {
        "description": "The payload for `type` (see the conditions below); absent or null "
        "means an empty object.",
        "type": ["object", "null"],
    }
    rules = []
    for event_type, model in PAYLOAD_MODELS.items():
        aliases = sorted(alias for alias, kind in TYPE_ALIASES.items() if kind is event_type)
        spellings = [event_type.value, *aliases]
        payload = {"$ref": payload_refs[model]}
        then: dict[str, Any] = {"properties": {"payload": payload}}
        if any(field.is_required() for field in model.model_fields.values()):
            then["required"] = ["payload"]
        else:
            then["properties"]["payload"] = {"anyOf": [{"type": "null"}, payload]}
        chosen = {"properties": {"type": {"enum": spellings}}, "required": ["type"]}
        rules.append({"if": chosen, "then": then})
    envelope["allOf"] = rules


def _referenced(schema: Any, definitions: dict[str, Any]) -> set[str]:
    """The names of the definitions `schema` needs, directly or through each other."""
    found: set[str] = set()
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref.removeprefix("#/$defs/")
                if name not in found:
                    found.add(name)
                    pending.append(definitions[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found
