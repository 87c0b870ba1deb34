"""A report table as CSV: a header row, numbers as plain numbers (no currency symbol or
thousands separator), dates as ISO dates, the total as the last row."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

from services.reporter.render.tables import Table


def to_csv(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([column.key for column in table.columns])
    rows = [*table.rows, *([table.total] if table.total else [])]
    for row in rows:
        writer.writerow([_value(row.get(column.key)) for column in table.columns])
    return buffer.getvalue()


def _value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return str(value)
