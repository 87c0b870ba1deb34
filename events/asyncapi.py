"""The AsyncAPI 3.0 document of the topics, generated from `events.topics.CHANNELS` and the
message schemas, for a deployment's topic prefix and brokers."""

from __future__ import annotations

import json
import re
from typing import Any

from events.schema import MESSAGE_VERSIONS, MESSAGES, message_schema
from events.topics import CHANNELS, Channel

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"


def asyncapi_document(topic_prefix: str = "", bootstrap: str = "localhost:9092") -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    roots: dict[str, str] = {}
    for name in dict.fromkeys(channel.message for channel in CHANNELS):
        schema = message_schema(name)
        schemas[_component_name(name)] = _add_definitions(schema, schemas, roots)
        roots[_fingerprint(schema)] = _component_name(name)
        messages[name] = _message(name)
    channels = {_channel_name(c): _channel(c, topic_prefix) for c in CHANNELS}
    operations: dict[str, Any] = {}
    for channel in CHANNELS:
        for action, services in (("send", channel.publishers), ("receive", channel.consumers)):
            for service, summary in services.items():
                name = _camel(f"{service} {action} {_channel_name(channel)}")
                operations[name] = _operation(channel, action, service, summary)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Capital Tracker event streams",
            "version": f"{MESSAGE_VERSIONS['envelope']}.0.0",
            "description": "Topics of a council capital programme tracker. Messages are "
            "UTF-8 JSON; each payload schema is the JSON Schema (draft 2020-12) that "
            "`capital events schema --message NAME` writes.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": bootstrap,
                "protocol": "kafka",
                "description": "This deployment's brokers (CAPITAL_KAFKA_BOOTSTRAP).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def _channel(channel: Channel, prefix: str) -> dict[str, Any]:
    address = prefix + channel.topic
    return {
        "address": address,
        "description": channel.description,
        "messages": {channel.message: {"$ref": f"#/components/messages/{channel.message}"}},
        "bindings": {"kafka": {"topic": address, "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _message(name: str) -> dict[str, Any]:
    channel = next(c for c in CHANNELS if c.message == name)
    key = (
        {"type": "string", "description": channel.key}
        if channel.key
        else {"type": "string", "maxLength": 0, "description": "Empty."}
    )
    return {
        "name": name,
        "title": MESSAGES[name][1],
        "contentType": "application/json",
        "payload": {"$ref": f"#/components/schemas/{_component_name(name)}"},
        "bindings": {"kafka": {"key": key, "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _operation(channel: Channel, action: str, service: str, summary: str) -> dict[str, Any]:
    reference = f"#/channels/{_channel_name(channel)}"
    return {
        "action": action,
        "channel": {"$ref": reference},
        "messages": [{"$ref": f"{reference}/messages/{channel.message}"}],
        "summary": summary,
        "tags": [{"name": service}],
    }


def _add_definitions(
    schema: dict[str, Any], schemas: dict[str, Any], roots: dict[str, str]
) -> dict[str, Any]:
    """Move a message schema's `$defs` into the shared components, pointing its references
    there; a name two messages share must mean the same thing. A definition that is another
    message (the envelope inside a state change) points to that message's schema."""
    definitions = schema.get("$defs", {})
    names = {name: roots.get(_fingerprint(d), name) for name, d in definitions.items()}
    for name, definition in definitions.items():
        if names[name] != name:
            continue
        rehomed = _rehomed(definition, names)
        if schemas.setdefault(name, rehomed) != rehomed:
            raise ValueError(f"two messages define {name!r} differently")
    return _rehomed({k: v for k, v in schema.items() if k not in ("$defs", "$schema")}, names)


def _rehomed(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: "#/components/schemas/" + names.get(name := value.removeprefix("#/$defs/"), name)
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/")
            else _rehomed(value, names)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rehomed(item, names) for item in node]
    return node


def _fingerprint(schema: dict[str, Any]) -> str:
    """A schema's content apart from its title: the same model under two names."""
    return json.dumps(
        {k: v for k, v in schema.items() if k not in ("title", "$schema", "$defs")}, sort_keys=True
    )


def _channel_name(channel: Channel) -> str:
    return _camel(channel.topic.removeprefix("capital."))


def _component_name(message: str) -> str:
    return _camel(message)[0].upper() + _camel(message)[1:] + "Message"


def _camel(text: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", text) if w]
    return words[0][0].lower() + words[0][1:] + "".join(w[0].upper() + w[1:] for w in words[1:])
