"""Input a use case cannot take, naming the field that is wrong: every entry point reports
it against that field (the HTTP API as a 422 whose `loc` ends with it)."""

from __future__ import annotations


class InvalidInput(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
