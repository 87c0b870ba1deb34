"""JSON Schema of the envelope and every payload, for systems that produce events."""

from __future__ import annotations

from typing import Any

from events.envelope import PAYLOAD_MODELS, TYPE_ALIASES, Envelope


def json_schema() -> dict[str, Any]:
    envelope = Envelope.model_json_schema()
    envelope["properties"]["type"] = {
        "type": "string",
        "enum": [t.value for t in PAYLOAD_MODELS] + sorted(TYPE_ALIASES),
    }
    envelope["properties"]["payload"] = {
        "description": "One of the payloads below, chosen by `type`.",
        "type": "object",
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Capital Tracker scheme event",
        "envelope": envelope,
        "payloads": {t.value: model.model_json_schema() for t, model in PAYLOAD_MODELS.items()},
        "aliases": {alias: t.value for alias, t in TYPE_ALIASES.items()},
    }
