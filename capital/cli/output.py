"""Rendering rows for people (a table) and for scripts (JSON, CSV)."""

from __future__ import annotations

import csv
import io
import json
import sys
from decimal import Decimal
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table

from capital.application.json_text import plain, to_json

__all__ = ["Format", "emit", "plain", "print_table", "to_json"]

RAG_STYLE = {"green": "bold green", "amber": "bold yellow", "red": "bold red"}


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def emit(rows: list[dict[str, Any]], fmt: Format, columns: list[str], title: str = "") -> None:
    if fmt is Format.json:
        print(to_json(rows))
    elif fmt is Format.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows([{k: _cell(row.get(k)) for k in columns} for row in rows])
        sys.stdout.write(buffer.getvalue())
    else:
        print_table(rows, columns, title)


def print_table(rows: list[dict[str, Any]], columns: list[str], title: str = "") -> None:
    table = Table(title=title or None, show_lines=False, header_style="bold")
    for column in columns:
        justify = "right" if column in _NUMERIC else "left"
        wide = column in _FREE_TEXT
        table.add_column(
            column.replace("_", " "),
            justify=justify,
            overflow="fold" if wide else "ellipsis",
            no_wrap=not wide,
            min_width=28 if wide else None,
            max_width=48 if wide else None,
        )
    for row in rows:
        table.add_row(*[_styled(column, row.get(column)) for column in columns])
    Console(width=max(Console().width, 230)).print(table)


_FREE_TEXT = {"title", "message", "reason", "raw", "payload", "description", "note"}
_NUMERIC = {"budget", "forecast_outturn", "variance", "slippage_days", "open_snags", "schemes"}


def _cell(value: Any) -> str:
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def _styled(column: str, value: Any) -> str:
    text = _cell(value)
    if isinstance(value, Decimal):
        text = f"£{value:,.0f}"
    style = RAG_STYLE.get(text) if column.endswith("rag") else None
    return f"[{style}]{text}[/]" if style else text.replace("[", r"\[")
