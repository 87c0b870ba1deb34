"""Responses in the product's one JSON text (`capital.application.json_text`): the rows the
command line prints with `--format json`, byte for byte the same values, money exact."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from capital.application.json_text import to_json


class ExactJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return to_json(content, indent=None).encode("utf-8")
