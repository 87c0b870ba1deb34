"""Terse builders for register rows in importer tests: a good row by default, changed by
keyword (`row(original_completion="")`), laid out under the council's own headings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from services.importer import ImportPlan, RecordedScheme, plan_import
from services.importer.columns import Cell, RegisterTable, tabulate

REGISTER_DATE = dt.date(2024, 7, 29)

# The headings as the council's committee pack printed them.
PACK_HEADINGS = {
    "ref": "Ref",
    "description": "Scheme Description",
    "budget": "Budget",
    "funding": "Funding Source",
    "funding_approved": "Funding Approved",
    "original_start": "Original Start Date",
    "original_completion": "Original Completion Date",
    "actual_start": "Actual Start Date",
    "anticipated_completion": "Anti. Completion Date",
    "actual_completion": "Completion Date",
    "contractor": "Contractor",
    "contract_length": "Contract Length",
    "progress_update": "Progress Update",
}

GOOD_ROW: dict[str, Cell] = {
    "ref": "CYPE-018",
    "description": "Safeguarding Works, Alterations to create a new main reception",
    "budget": "£99,000",
    "funding": "CCIP6:99000",
    "funding_approved": "2022-06",
    "original_start": "11/07/2022",
    "original_completion": "28/10/2022",
    "actual_start": "11/07/2022",
    "anticipated_completion": "06/01/2023",
    "actual_completion": "",
    "contractor": "Oliveti Construction Ltd",
    "contract_length": "4 months",
    "progress_update": "Phase 2 Ramp & Handrails now 100% complete.",
}


def row(**changes: Cell) -> dict[str, Cell]:
    unknown = set(changes) - set(GOOD_ROW)
    assert not unknown, f"not register fields: {unknown}"
    return {**GOOD_ROW, **changes}


def table(*rows: Mapping[str, Cell], headings: Mapping[str, str] = PACK_HEADINGS) -> RegisterTable:
    """The rows as a sheet would give them: a header row, then one row each."""
    fields = list(headings)
    grid = [(1, [headings[f] for f in fields])]
    grid += [(number, [r.get(f) for f in fields]) for number, r in enumerate(rows, start=2)]
    return tabulate("register.csv", grid)


def plan(
    *rows: Mapping[str, Cell],
    recorded_on: dt.date = REGISTER_DATE,
    recorded: Mapping[str, RecordedScheme] | None = None,
    **table_options: Any,
) -> ImportPlan:
    recorded_at = dt.datetime.combine(recorded_on, dt.time(12), dt.UTC)
    return plan_import(table(*rows, **table_options), recorded_on, recorded_at, recorded)
