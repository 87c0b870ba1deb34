"""Reading a council's register: which column is which, and what a cell's money or date is.

Councils head their columns in many ways ("Anti. Completion Date", "Funding Source",
"Budget (£k)"). A heading is compared, after normalising case, punctuation and a few
abbreviations, with the names each field is known by (`ALIASES`). Cells come from CSV as
text and from Excel as numbers, dates or text; the parsers (in `events.values`, shared with
`capital log`) accept both, so the same register gives the same values whichever way it
was saved.

Pure: standard library and the event contract only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

# Money and dates are read by the one shared parser; the names stay importable from here.
from events.values import (
    DATE_EXAMPLES,
    MONEY_EXAMPLES,
    Cell,
    MonthEnd,
    ParsedDate,
    format_money,
    parse_date,
    parse_money,
)

__all__ = [
    "DATE_EXAMPLES",
    "MONEY_EXAMPLES",
    "Cell",
    "MonthEnd",
    "ParsedDate",
    "format_money",
    "parse_date",
    "parse_money",
]
PLACEHOLDERS = frozenset({"tbc", "tba", "n a", "na", "n k", "nk", "none", "unknown", "-", "?"})
"""Cell texts that mean "not known yet": read as empty, and said so."""


class Field(StrEnum):
    """What the importer knows how to use. Values are the shared register's column names."""

    ref = "ref"
    title = "title"  # type: ignore[assignment]  # the column, not str.title
    description = "description"
    budget = "budget"
    funding = "funding"
    funding_approved = "funding_approved"
    original_start = "original_start"
    original_completion = "original_completion"
    actual_start = "actual_start"
    anticipated_completion = "anticipated_completion"
    actual_completion = "actual_completion"
    contractor = "contractor"
    contract_length = "contract_length"
    project_manager = "project_manager"
    programme = "programme"
    public_sensitivity = "public_sensitivity"
    forecast_outturn = "forecast_outturn"
    progress_update = "progress_update"


AMOUNT_FIELDS = frozenset({Field.budget, Field.forecast_outturn, Field.funding})
"""Columns whose plain numbers a heading in £k or £m scales."""

# Headings after normalisation (`normalise_heading`): lower case, words only, "date" and
# currency units dropped, abbreviations expanded. Keep each alias unique across fields.
ALIASES: dict[Field, tuple[str, ...]] = {
    Field.ref: (
        "ref",
        "reference",
        "scheme ref",
        "scheme reference",
        "project ref",
        "project reference",
        "scheme id",
        "project id",
        "id",
        "scheme code",
        "project code",
        "code",
        "scheme number",
        "project number",
        "scheme no",
        "project no",
        "no",
    ),
    Field.title: (
        "title",
        "scheme title",
        "scheme name",
        "project name",
        "project title",
        "name",
        "scheme",
        "project",
    ),
    Field.description: (
        "description",
        "scheme description",
        "project description",
        "details",
        "scope",
        "scope works",
        "description works",
        "works description",
        "works",
    ),
    Field.budget: (
        "budget",
        "total budget",
        "approved budget",
        "scheme budget",
        "project budget",
        "capital budget",
        "budget approved",
        "current budget",
        "total scheme budget",
        "approved allocation",
        "allocation",
    ),
    Field.funding: (
        "funding",
        "funding source",
        "funding sources",
        "source funding",
        "funding stream",
        "funding streams",
        "funded by",
        "fund",
        "funding split",
        "funding breakdown",
    ),
    Field.funding_approved: (
        "funding approved",
        "approved",
        "approval",
        "funding approval",
        "approved on",
        "approval month",
        "funding approval month",
    ),
    Field.original_start: (
        "original start",
        "planned start",
        "baseline start",
        "programmed start",
        "original start on site",
        "planned start on site",
    ),
    Field.original_completion: (
        "original completion",
        "planned completion",
        "baseline completion",
        "original end",
        "planned end",
        "programmed completion",
        "original finish",
        "planned finish",
        "contract completion",
    ),
    Field.actual_start: (
        "actual start",
        "start on site",
        "site start",
        "started",
        "actual start on site",
        "actual site start",
    ),
    Field.anticipated_completion: (
        "anticipated completion",
        "anticipated end",
        "anticipated finish",
        "forecast completion",
        "expected completion",
        "estimated completion",
        "revised completion",
        "current completion",
        "projected completion",
    ),
    Field.actual_completion: (
        "actual completion",
        "completion",
        "completed",
        "practical completion",
        "pc",
        "actual end",
        "actual finish",
        "actual practical completion",
    ),
    Field.contractor: ("contractor", "contractors", "main contractor", "principal contractor"),
    Field.contract_length: (
        "contract length",
        "contract period",
        "contract duration",
        "duration",
        "programme length",
    ),
    Field.project_manager: (
        "project manager",
        "pm",
        "scheme manager",
        "lead officer",
        "officer",
        "project lead",
    ),
    Field.programme: ("programme", "program", "workstream", "work stream", "programme area"),
    Field.public_sensitivity: ("public sensitivity", "sensitivity"),
    Field.forecast_outturn: (
        "forecast outturn",
        "outturn",
        "forecast",
        "forecast cost",
        "projected outturn",
        "forecast final cost",
        "anticipated final cost",
        "anticipated outturn",
        "estimated outturn",
    ),
    Field.progress_update: (
        "progress update",
        "progress",
        "update",
        "latest update",
        "progress note",
        "progress notes",
        "progress updates",
        "comments",
        "commentary",
        "notes",
        "status update",
        "latest position",
    ),
}

KNOWN_UNUSED: dict[str, str] = {
    "programme rag": "RAG is computed by the tracker from the dates and budget",
    "budget rag": "RAG is computed by the tracker from the dates and budget",
    "rag status": "RAG is computed by the tracker from the dates and budget",
    "overall rag": "RAG is computed by the tracker from the dates and budget",
    "rag": "RAG is computed by the tracker from the dates and budget",
    "status": "status follows from the start and completion dates",
}
"""Headings a register often has that are deliberately not imported, with the reason."""

_FIELD_OF_ALIAS = {alias: field for field, aliases in ALIASES.items() for alias in aliases}
_ABBREVIATIONS = {"anti": "anticipated", "antic": "anticipated", "orig": "original"}
_DROPPED_WORDS = frozenset({"date", "dates", "the", "of", "gbp", "k", "m", "000", "000s"})
_THOUSANDS_HEADING = re.compile(r"£\s*(k|000s?)\b|\(\s*(k|000s?)\s*\)|\bthousands\b", re.I)
_MILLIONS_HEADING = re.compile(r"£\s*m\b|\(\s*£?\s*m\s*\)|\bmillions\b", re.I)


def normalise_heading(heading: str) -> str:
    """'Anti. Completion Date' -> 'anticipated completion'; 'Budget (£k)' -> 'budget'."""
    lowered = heading.lower().replace("(s)", "s").replace("&", " and ")
    words = re.sub(r"[^a-z0-9]+", " ", lowered).split()
    words = [_ABBREVIATIONS.get(word, word) for word in words]
    return " ".join(word for word in words if word not in _DROPPED_WORDS)


def field_for_heading(heading: str) -> Field | None:
    return _FIELD_OF_ALIAS.get(normalise_heading(heading))


def money_scale(heading: str) -> Decimal:
    """Plain numbers under 'Budget (£k)' are thousands of pounds, under '£m' millions."""
    if _THOUSANDS_HEADING.search(heading):
        return Decimal(1000)
    if _MILLIONS_HEADING.search(heading):
        return Decimal(1_000_000)
    return Decimal(1)


@dataclass(frozen=True)
class Column:
    field: Field
    heading: str
    index: int
    scale: Decimal = Decimal(1)


@dataclass(frozen=True)
class RegisterRow:
    """One scheme row: its spreadsheet row number (the header counts) and its cells by
    field. Fields whose column is absent are absent."""

    number: int
    values: dict[Field, Cell]

    def get(self, field: Field) -> Cell:
        return self.values.get(field)


@dataclass(frozen=True)
class RegisterTable:
    """A sheet read into rows by field, with what was learnt from its headings."""

    source: str
    header_row: int | None
    columns: dict[Field, Column]
    rows: tuple[RegisterRow, ...]
    unused_headings: tuple[tuple[str, str], ...] = ()
    """(heading, why it is not used) for every heading that is not imported."""

    def heading(self, field: Field) -> str:
        """The column's heading for messages, as the register has it ('Anti. Completion
        Date'); snake_case headings read as words."""
        column = self.columns.get(field)
        return (column.heading if column else field.value).replace("_", " ")


HEADER_SEARCH_ROWS = 30
MIN_HEADINGS = 3


UNKNOWN_HEADING = "not a heading the importer knows"
"""Why an unused heading is not imported when the importer has no better reason."""


def tabulate(source: str, grid: Sequence[tuple[int, Sequence[Cell]]]) -> RegisterTable:
    """Rows of cells (with their spreadsheet row numbers) -> rows by field.

    The header is the first row, among the first few, with at least `MIN_HEADINGS` known
    headings: councils often put a title and a blank line above it.
    """
    non_blank = [(number, cells) for number, cells in grid if not _blank(cells)]
    if not non_blank:
        return RegisterTable(source, None, {}, ())
    header_at = next(
        (
            position
            for position, (_, cells) in enumerate(non_blank[:HEADER_SEARCH_ROWS])
            if sum(field_for_heading(_text(cell)) is not None for cell in cells) >= MIN_HEADINGS
        ),
        0,
    )
    header_number, headings = non_blank[header_at]
    columns: dict[Field, Column] = {}
    unused: list[tuple[str, str]] = []
    for index, cell in enumerate(headings):
        heading = _text(cell)
        if not heading:
            continue
        field = field_for_heading(heading)
        if field is None:
            why = KNOWN_UNUSED.get(normalise_heading(heading), UNKNOWN_HEADING)
            unused.append((heading, why))
        elif field in columns:
            unused.append((heading, f"the earlier column {columns[field].heading!r} is used"))
        else:
            scale = money_scale(heading) if field in AMOUNT_FIELDS else Decimal(1)
            columns[field] = Column(field, heading, index, scale)
    rows = tuple(
        RegisterRow(
            number,
            {c.field: (cells[c.index] if c.index < len(cells) else None) for c in columns.values()},
        )
        for number, cells in non_blank[header_at + 1 :]
    )
    return RegisterTable(source, header_number, columns, rows, tuple(unused))


def _blank(cells: Sequence[Cell]) -> bool:
    return all(_text(cell) == "" for cell in cells)


def _text(cell: Cell) -> str:
    return "" if cell is None else str(cell).strip()


# --- cell values ----------------------------------------------------------------------


def cell_text(cell: Cell) -> str | None:
    """A text cell, trimmed, with whitespace runs (Excel line breaks) made single spaces;
    None when empty. Whole numbers from Excel lose their '.0' (a reference typed as 101)."""
    if cell is None:
        return None
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    if isinstance(cell, dt.datetime):
        cell = cell.date()
    text = " ".join(str(cell).split())
    return text or None


def is_placeholder(text: str) -> bool:
    """'TBC', 'N/A', '-' and the like: nothing is known yet."""
    return normalise_heading(text) in PLACEHOLDERS or text.strip() in PLACEHOLDERS
