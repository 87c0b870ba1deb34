"""Rendering rows for people (a table) and for scripts (JSON, CSV)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable
from rich.text import Text

from capital.application.json_text import plain, to_json

__all__ = ["Format", "emit", "plain", "print_table", "to_json"]

RAG_STYLE = {"green": "bold green", "amber": "bold yellow", "red": "bold red"}


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class ReportFormat(StrEnum):
    """For a report that is not one table (an import, the status): read, or for machines."""

    table = "table"
    json = "json"


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


def terminal_width() -> int:
    """The width to fit: `COLUMNS` when set, else the terminal's, else 120 (a pipe)."""
    return shutil.get_terminal_size(fallback=(120, 24)).columns


@dataclass(frozen=True)
class TableColumn:
    heading: str
    numeric: bool = False
    wide: bool = False
    """Free text (titles, reasons): cut short first when the table must narrow."""
    keep: int = 0
    """When columns must be hidden, those with the lowest `keep` go first (then the
    right-most); the first two columns always stay."""


WIDE_MIN, WIDE_MAX = 12, 48
_CELL_PADDING = 3  # a space either side and a rule


@dataclass(frozen=True)
class FittedTable:
    shown: list[int]
    """Indices of the columns that fit, in order; the rest are hidden."""
    widths: list[int]

    def hidden(self, columns: Sequence[TableColumn]) -> list[str]:
        return [c.heading for i, c in enumerate(columns) if i not in self.shown]


def fit_table(
    columns: Sequence[TableColumn], rows: Sequence[Sequence[str]], width: int
) -> FittedTable:
    """Column widths that fit `width`: each column as wide as its widest cell (a heading
    may wrap between words); free text narrows to WIDE_MIN and beyond that columns are
    hidden, least kept first, never the first two."""
    natural = []
    for index, column in enumerate(columns):
        words = max((cell_len(word) for word in column.heading.split()), default=1)
        cells = max((cell_len(row[index]) for row in rows), default=0)
        need = max(words, cells, 1)
        natural.append(min(need, WIDE_MAX) if column.wide else need)
    shown = list(range(len(columns)))
    hide_order = sorted(shown[2:], key=lambda i: (columns[i].keep, -i))
    while True:
        fixed = sum(natural[i] for i in shown if not columns[i].wide)
        wide = [i for i in shown if columns[i].wide]
        room = width - 1 - _CELL_PADDING * len(shown) - fixed
        if room >= WIDE_MIN * len(wide) or not hide_order:
            break
        shown.remove(hide_order.pop(0))
    widths = {i: natural[i] for i in shown}
    if wide:
        share = max(WIDE_MIN, room // len(wide))
        for i in wide:
            widths[i] = min(natural[i], share)
    return FittedTable(shown, [widths[i] for i in shown])


def clip(text: str, width: int) -> str:
    """`text` cut to `width` cells with an ellipsis; a table cell is one line."""
    line = " ".join(text.split())
    if cell_len(line) <= width:
        return line
    clipped = Text(line)
    clipped.truncate(width, overflow="ellipsis")
    return clipped.plain


def fitted_rich_table(
    title: str | None,
    columns: Sequence[TableColumn],
    rows: Sequence[Sequence[str]],
    markup: Callable[[int, str], str],
    width: int,
    end_sections: Sequence[int] = (),
) -> RichTable:
    """A table that fits `width`: cells clipped with an ellipsis, columns that cannot fit
    hidden and named in the caption. `markup(column_index, text)` styles a clipped cell."""
    fitted = fit_table(columns, rows, width)
    hidden = fitted.hidden(columns)
    caption = (
        f"not shown, to fit {width} columns: {', '.join(hidden)} (--format csv or json for all)"
        if hidden
        else None
    )
    table = RichTable(title=title or None, caption=caption, header_style="bold")
    for index, column_width in zip(fitted.shown, fitted.widths, strict=True):
        column = columns[index]
        table.add_column(
            column.heading,
            justify="right" if column.numeric else "left",
            width=column_width,
            overflow="ellipsis",
        )
    for number, row in enumerate(rows):
        table.add_row(
            *[markup(i, clip(row[i], w)) for i, w in zip(fitted.shown, fitted.widths, strict=True)],
            end_section=number in end_sections,
        )
    return table


def print_table(rows: list[dict[str, Any]], columns: list[str], title: str = "") -> None:
    specs = [
        TableColumn(
            c.replace("_", " "),
            numeric=c in _NUMERIC,
            wide=c in _FREE_TEXT,
            keep=_KEEP.index(c) + 1 if c in _KEEP else 0,
        )
        for c in columns
    ]
    texts = [[_shown(row.get(column)) for column in columns] for row in rows]

    def markup(index: int, text: str) -> str:
        style = RAG_STYLE.get(text) if columns[index].endswith("rag") else None
        return f"[{style}]{text}[/]" if style else escape(text)

    width = terminal_width()
    Console(width=width).print(fitted_rich_table(title, specs, texts, markup, width))


_FREE_TEXT = {"title", "message", "reason", "raw", "payload", "description", "note"}
_KEEP = [
    "budget",
    "slippage_days",
    "status",
    "anticipated_completion",
    "expected_completion",
    "budget_rag",
    "programme_rag",
    "overall_rag",
    "why",
]
"""Columns a narrow table keeps longest, least important first; any other goes before."""
_NUMERIC = {
    "budget",
    "forecast_outturn",
    "variance",
    "slippage_days",
    "days_overdue",
    "open_snags",
    "schemes",
}


def _cell(value: Any) -> str:
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def _shown(value: Any) -> str:
    """A cell as people read it: money in whole pounds with separators."""
    if isinstance(value, Decimal):
        return f"£{value:,.0f}"
    return _cell(value)
