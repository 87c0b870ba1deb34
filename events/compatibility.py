"""Would a new schema break systems built against a released one?

Producers and consumers both rely on a released schema, so the check is Confluent Schema
Registry's FULL mode in spirit: every message valid under the released schema must stay
valid (no removed type, field or value, no new requirement, no tighter limit), and nothing
a consumer reads may disappear. Additions pass: a new optional field, event type, enum
value, a looser limit. Patterns and formats are compared as text: a changed one is
reported, since whether it narrows cannot be decided in general.

Pure: two JSON Schema documents in, a list of `Change`s out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from events import wire

Schema = dict[str, Any]

_UPPER_LIMITS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
_LOWER_LIMITS = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
_TEXT_RULES = ("pattern", "format", "multipleOf")


@dataclass(frozen=True)
class Change:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def breaking_changes(released: Schema, current: Schema) -> list[Change]:
    """Every way `current` would refuse or drop what `released` promised."""
    return list(_Comparison(released, current).compare(released, current, "$"))


@dataclass
class _Comparison:
    released_root: Schema
    current_root: Schema

    def __post_init__(self) -> None:
        self._seen: set[tuple[int, int]] = set()

    def compare(self, old: Any, new: Any, where: str) -> Iterator[Change]:
        old = self._resolve(old, self.released_root)
        new = self._resolve(new, self.current_root)
        if not isinstance(old, dict) or not isinstance(new, dict):
            if old != new:
                yield Change(where, "schema changed")
            return
        if (id(old), id(new)) in self._seen:
            return
        self._seen.add((id(old), id(new)))
        yield from self._types(old, new, where)
        yield from self._values(old, new, where)
        yield from self._limits(old, new, where)
        yield from self._properties(old, new, where)
        yield from self._options(old, new, where)
        yield from self._rules(old, new, where)
        if "items" in old:
            yield from self.compare(old["items"], new.get("items", {}), f"{where}[]")

    def _resolve(self, node: Any, root: Schema) -> Any:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            target: Any = root
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            rest = {k: v for k, v in node.items() if k != "$ref"}
            node = {**target, **rest} if rest else target
        return node

    def _types(self, old: Schema, new: Schema, where: str) -> Iterator[Change]:
        before, after = _type_set(old), _type_set(new)
        if before is None or after is None:
            if after is not None:
                yield Change(where, f"now limited to type {sorted(after)}")
            return
        lost = {t for t in before - after if not (t == "integer" and "number" in after)}
        if lost:
            yield Change(where, f"type {sorted(lost)} no longer allowed (now {sorted(after)})")

    def _values(self, old: Schema, new: Schema, where: str) -> Iterator[Change]:
        before, after = _allowed_values(old), _allowed_values(new)
        if after is not None:
            if before is None:
                yield Change(where, f"now limited to the values {after}")
            elif removed := [v for v in before if v not in after]:
                yield Change(where, f"values removed: {removed}")
        trimmed_before, trimmed_after = _trimmed(old), _trimmed(new)
        if trimmed_before and trimmed_after:
            yield from self._limits(trimmed_before, trimmed_after, where)
            if trimmed_before["shape"] != trimmed_after["shape"]:
                yield Change(where, "pattern changed")
            old, new = _without(old, "pattern"), _without(new, "pattern")
        for rule in _TEXT_RULES:
            if rule in new and old.get(rule) != new[rule]:
                yield Change(where, f"{rule} {'changed' if rule in old else 'added'}")
        closed_now = new.get("additionalProperties", True) is False
        if closed_now and old.get("additionalProperties", True) is not False:
            yield Change(where, "no longer accepts other fields")

    def _limits(self, old: Schema, new: Schema, where: str) -> Iterator[Change]:
        for limit in _UPPER_LIMITS + _LOWER_LIMITS:
            if limit not in new:
                continue
            if limit not in old:
                yield Change(where, f"{limit} {new[limit]} added")
                continue
            tighter = new[limit] < old[limit] if limit in _UPPER_LIMITS else new[limit] > old[limit]
            if tighter:
                yield Change(where, f"{limit} tightened from {old[limit]} to {new[limit]}")

    def _properties(self, old: Schema, new: Schema, where: str) -> Iterator[Change]:
        old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
        for name, field in old_fields.items():
            if name not in new_fields:
                yield Change(f"{where}.{name}", "field removed")
            else:
                yield from self.compare(field, new_fields[name], f"{where}.{name}")
        was_required = set(old.get("required", []))
        for name in new.get("required", []):
            if name not in was_required:
                what = "made required" if name in old_fields else "new field is required"
                yield Change(f"{where}.{name}", what)

    def _options(self, old: Schema, new: Schema, where: str) -> Iterator[Change]:
        """Each option the released schema allowed (anyOf/oneOf) must still be allowed."""
        for keyword in ("anyOf", "oneOf"):
            if keyword not in old and keyword not in new:
                continue
            before = old.get(keyword, [_without(old, keyword)])
            after = new.get(keyword, [_without(new, keyword)])
            for option in before:
                match = self._counterpart(option, after)
                if match is None:
                    yield Change(where, f"option {_summary(option)} removed")
                else:
                    yield from self.compare(option, match, where)

    def _rules(self, old: Schema, new: Schema, where: str) -> Iterator[Change]:
        """`allOf` conditions (the envelope's payload per type), paired by their `if`."""
        after = {_condition_key(rule): rule for rule in new.get("allOf", [])}
        for rule in old.get("allOf", []):
            key = _condition_key(rule)
            label = f"{where}[{key}]" if key else where
            if key not in after:
                yield Change(label, "rule removed")
            else:
                yield from self.compare(rule.get("then", rule), after[key].get("then", {}), label)

    def _counterpart(self, option: Any, candidates: list[Any]) -> Any:
        option = self._resolve(option, self.released_root)
        resolved = [self._resolve(c, self.current_root) for c in candidates]
        signature = _signature(option)
        for candidate in resolved:
            if _signature(candidate) == signature:
                return candidate
        return None


def _type_set(schema: Schema) -> set[str] | None:
    declared = schema.get("type")
    if declared is None:
        return None
    return {declared} if isinstance(declared, str) else set(declared)


def _allowed_values(schema: Schema) -> list[Any] | None:
    if "enum" in schema:
        return list(schema["enum"])
    return [schema["const"]] if "const" in schema else None


def _trimmed(schema: Schema) -> dict[str, Any] | None:
    """The limits of text measured after stripping, from the comment `events.schema` writes."""
    found = wire.TRIMMED.match(str(schema.get("$comment", "")))
    if found is None:
        return None
    limits: dict[str, Any] = {"minLength": int(found["low"]), "shape": found["shape"]}
    if found["high"]:
        limits["maxLength"] = int(found["high"])
    return limits


def _without(schema: Schema, keyword: str) -> Schema:
    return {k: v for k, v in schema.items() if k != keyword}


def _signature(schema: Any) -> Any:
    """What identifies an option across versions: its type, or its title, or its value."""
    if not isinstance(schema, dict):
        return schema
    types = _type_set(schema)
    return (tuple(sorted(types)) if types else None, schema.get("title"), repr(schema.get("const")))


def _condition_key(rule: Schema) -> str:
    """The canonical event type a rule's `if` names (its first spelling)."""
    condition = rule.get("if", {}).get("properties", {}).get("type", {})
    spellings = condition.get("enum") or [condition.get("const", "")]
    return str(spellings[0])


def _summary(option: Any) -> str:
    if isinstance(option, dict):
        return str(option.get("title") or option.get("type") or option.get("const") or option)
    return repr(option)
