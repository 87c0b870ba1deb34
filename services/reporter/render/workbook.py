"""Report tables as an Excel workbook (openpyxl): one sheet per table, money as numbers
with a currency format, dates as dates, a frozen header row with filters, RAG cells
filled in their colour, and an "About" sheet saying what the figures are."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from events import Rag
from services.reporter.render.palette import RAG_FILL, RAG_INK
from services.reporter.render.tables import Column, Kind, Table

CURRENCY_FORMAT = '"£"#,##0.00;[Red]-"£"#,##0.00'
DATE_FORMAT = "dd/mm/yyyy"
INTEGER_FORMAT = "0"
_WIDTHS = {Kind.money: 16, Kind.date: 13, Kind.integer: 10, Kind.rag: 12}
_WIDE_TEXT = 60


def to_xlsx(
    tables: Sequence[Table], title: str, position: str, about: Sequence[tuple[str, Any]]
) -> bytes:
    """`position` says which position the figures show; every sheet prints it in its
    header, and the About sheet gives it with `about`'s facts (dates as dates)."""
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    workbook.remove(first)
    for table in tables:
        sheet = workbook.create_sheet(_sheet_name(table.name))
        _write_sheet(sheet, table)
        sheet.oddHeader.left.text = title
        sheet.oddHeader.right.text = position
    notes = workbook.create_sheet("About")
    notes.append(["Report", title])
    notes.append(["Position", position])
    for label, value in about:
        notes.append([label, value])
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 100
    for row in notes.iter_rows():
        row[0].font = Font(bold=True)
        row[1].alignment = Alignment(wrap_text=True, vertical="top", horizontal="left")
        if isinstance(row[1].value, dt.date):
            row[1].number_format = DATE_FORMAT
    workbook.properties.title = title
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_sheet(sheet: Worksheet, table: Table) -> None:
    sheet.append([column.heading for column in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in table.rows:
        _append(sheet, table.columns, row)
    if table.total:
        _append(sheet, table.columns, table.total)
        rule = Side(style="thin")
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
            cell.border = Border(top=rule, bottom=Side(style="double"))
    sheet.freeze_panes = "A2"
    last = get_column_letter(len(table.columns))
    # The filter covers the rows, never the total: sorting must not move it among them.
    sheet.auto_filter.ref = f"A1:{last}{len(table.rows) + 1}"
    for index, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _width(column, table)


def _append(sheet: Worksheet, columns: Sequence[Column], row: dict[str, Any]) -> None:
    sheet.append([_cell_value(row.get(column.key)) for column in columns])
    for cell, column in zip(sheet[sheet.max_row], columns, strict=True):
        if column.kind is Kind.money:
            cell.number_format = CURRENCY_FORMAT
        elif column.kind is Kind.date:
            cell.number_format = DATE_FORMAT
        elif column.kind is Kind.integer:
            cell.number_format = INTEGER_FORMAT
        elif column.kind is Kind.rag and cell.value in RAG_FILL:
            rag = Rag(cell.value)
            cell.fill = PatternFill("solid", fgColor=_argb(RAG_FILL[rag]))
            cell.font = Font(bold=True, color=_argb(RAG_INK[rag]))
        else:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _argb(colour: str) -> str:
    """#c62828 as Excel's opaque ARGB, FFC62828 (openpyxl would make it transparent)."""
    return "FF" + colour.lstrip("#").upper()


def _cell_value(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return value


def _width(column: Column, table: Table) -> float:
    if column.kind in _WIDTHS:
        return max(_WIDTHS[column.kind], len(column.heading) * 0.9)
    longest = max(
        [len(column.heading), *(len(str(_cell_value(r.get(column.key)) or "")) for r in table.rows)]
    )
    return min(max(longest + 2, 10), _WIDE_TEXT)


def _sheet_name(name: str) -> str:
    """Excel allows 31 characters and none of []:*?/\\ in a sheet name."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in name)
    return cleaned[:31]
