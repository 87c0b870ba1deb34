"""The standard validator, as an integrator would run it: python-jsonschema, draft 2020-12,
format checking on. Schema and message are read with decimals, as the codec reads them, so
amounts are compared exactly (see events/schema.py on JSON numbers)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from events.schema import message_schema

REQUIRED_FORMATS = {"date", "date-time", "uuid"}


def standard_validator(schema: dict[str, Any]) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    checker = FormatChecker()
    missing = REQUIRED_FORMATS - set(checker.checkers)
    assert not missing, f"format checks unavailable: {missing} (install the dev extra)"
    return Draft202012Validator(as_read(json.dumps(schema)), format_checker=checker)


def validator_for(name: str) -> Draft202012Validator:
    return standard_validator(message_schema(name))


def as_read(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


def problems(validator: Draft202012Validator, text: str | bytes) -> list[str]:
    return [
        f"{'.'.join(map(str, error.absolute_path)) or '$'}: {error.message}"
        for error in validator.iter_errors(as_read(text))
    ]
