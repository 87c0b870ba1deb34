"""Text the API takes in a request body: never with a NUL character, which means nothing
in any name, id or address and which PostgreSQL cannot store or compare."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def _without_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("contains a NUL character")
    return text


Text = Annotated[str, AfterValidator(_without_nul)]
