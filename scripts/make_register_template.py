"""Write the scheme register templates that ship with the product:
`capital/data/register-template.csv` and `capital/data/register-template.xlsx`.

    .venv/bin/python scripts/make_register_template.py [OUTPUT_DIR]

Run it after changing `COLUMNS` or `EXAMPLES`, and commit what it writes; a test checks the
committed files match. The workbook's first sheet is the register (the importer reads the
first sheet); the second, "Guide", explains each column. docs/importing.md says the same
at more length.
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "capital" / "data"
CSV_NAME = "register-template.csv"
XLSX_NAME = "register-template.xlsx"


@dataclass(frozen=True)
class TemplateColumn:
    heading: str
    required: bool
    kind: str  # text | money | date | month | sensitivity: how the workbook formats it
    guide: str


COLUMNS = (
    TemplateColumn(
        "Ref",
        True,
        "text",
        "Your reference for the scheme, unique in the register: letters, "
        "digits and . _ / - (no spaces). It is how a later register finds the same scheme.",
    ),
    TemplateColumn(
        "Scheme Title",
        False,
        "text",
        "A short name for boards and alerts. Without it the "
        "description, shortened to 60 characters, is used.",
    ),
    TemplateColumn("Scheme Description", True, "text", "What the scheme delivers."),
    TemplateColumn(
        "Budget",
        True,
        "money",
        "The approved budget in pounds: 120000, £120,000, £785k or "
        "£4.675m. Under a heading like 'Budget (£k)' plain numbers are thousands.",
    ),
    TemplateColumn(
        "Funding Source",
        False,
        "text",
        "Source:amount pairs separated by ';' "
        "(CCIP7:2000000; School Funded:500000). One source without an amount funds the "
        "whole budget. Whatever the lines leave of the budget is held as 'Unallocated'.",
    ),
    TemplateColumn(
        "Funding Approved", False, "month", "The month (or date) the funding was approved."
    ),
    TemplateColumn("Original Start Date", False, "date", "The planned start on site."),
    TemplateColumn(
        "Original Completion Date",
        False,
        "date",
        "The baseline completion. If empty, the "
        "first anticipated completion date becomes the baseline.",
    ),
    TemplateColumn(
        "Actual Start Date", False, "date", "When works started on site. Empty: not started."
    ),
    TemplateColumn(
        "Anticipated Completion Date",
        False,
        "date",
        "When completion is now expected. "
        "Slippage is this date minus the baseline; past it and not complete is overdue.",
    ),
    TemplateColumn(
        "Actual Completion Date", False, "date", "Practical completion. Empty: not complete."
    ),
    TemplateColumn("Contractor", False, "text", "The main contractor."),
    TemplateColumn("Contract Length", False, "text", "As written, e.g. '12 months'."),
    TemplateColumn("Project Manager", False, "text", "Who manages the scheme."),
    TemplateColumn("Programme", False, "text", "The programme or workstream it belongs to."),
    TemplateColumn("Public Sensitivity", False, "sensitivity", "low, medium or high (empty: low)."),
    TemplateColumn(
        "Forecast Outturn", False, "money", "The expected final cost. Empty: the budget."
    ),
    TemplateColumn("Progress Update", False, "text", "The latest progress note."),
)

EXAMPLES: tuple[tuple[object, ...], ...] = (
    (
        "SCH-001",
        "Oakfield Primary expansion",
        "Two-storey extension to create 4 additional classrooms and a hall.",
        2_500_000,
        "CCIP7:2000000; School Funded:500000",
        dt.date(2024, 1, 1),
        dt.date(2024, 4, 1),
        dt.date(2025, 3, 31),
        dt.date(2024, 4, 15),
        dt.date(2025, 5, 30),
        None,
        "Example Construction Ltd",
        "12 months",
        "A. Manager",
        "School expansions",
        "medium",
        2_550_000,
        "Frame complete; roof going on. Delay of 2 months from late steel delivery.",
    ),
    (
        "SCH-002",
        "Safeguarding fencing",
        "Perimeter fencing and automated gates.",
        65_000,
        "CCIP6",
        dt.date(2023, 11, 1),
        dt.date(2024, 2, 1),
        dt.date(2024, 3, 28),
        dt.date(2024, 2, 5),
        None,
        dt.date(2024, 3, 22),
        "Example Fencing Ltd",
        "6 weeks",
        "B. Officer",
        "Safeguarding",
        "low",
        None,
        "Complete and handed over.",
    ),
)

_EXCEL_FORMATS = {"money": "£#,##0", "date": "dd/mm/yyyy", "month": "mmm-yy"}


def csv_cell(value: object, kind: str) -> str:
    """ISO dates and plain amounts: what any spreadsheet reads back unambiguously."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m") if kind == "month" else value.isoformat()
    return str(value)


def write_csv(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow([column.heading for column in COLUMNS])
        for example in EXAMPLES:
            writer.writerow(
                [
                    csv_cell(value, column.kind)
                    for column, value in zip(COLUMNS, example, strict=True)
                ]
            )


def write_xlsx(path: Path) -> None:
    workbook = Workbook()
    register = workbook.active
    register.title = "Register"
    register.append([column.heading for column in COLUMNS])
    for example in EXAMPLES:
        register.append(list(example))
    header_fill = PatternFill("solid", fgColor="1F4E78")
    for index, column in enumerate(COLUMNS, start=1):
        header = register.cell(row=1, column=index)
        header.font = Font(bold=True, color="FFFFFF")
        header.fill = header_fill
        header.alignment = Alignment(wrap_text=True, vertical="top")
        letter = header.column_letter
        register.column_dimensions[letter].width = 40 if column.kind == "text" else 16
        for row in range(2, len(EXAMPLES) + 200):
            cell = register.cell(row=row, column=index)
            cell.number_format = _EXCEL_FORMATS.get(column.kind, "General")
            cell.alignment = Alignment(wrap_text=column.kind == "text", vertical="top")
        if column.kind == "sensitivity":
            choice = DataValidation(type="list", formula1='"low,medium,high"', allow_blank=True)
            choice.add(f"{letter}2:{letter}1000")
            register.add_data_validation(choice)
    register.freeze_panes = "B2"

    guide = workbook.create_sheet("Guide")
    guide.append(["Column", "Required", "What goes in it"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for column in COLUMNS:
        guide.append([column.heading, "yes" if column.required else "", column.guide])
    guide.column_dimensions["A"].width = 30
    guide.column_dimensions["C"].width = 100
    guide.append([])
    guide.append(
        [
            "Dates",
            "",
            "Excel dates, 2024-03-15, 15/03/2024 (day first) or 15 March 2024. A month alone "
            "(Mar-24, March 2024) means the 1st for a start and the last day for a completion.",
        ]
    )
    guide.append(
        ["Import", "", "capital import-register register.xlsx --dry-run, then without --dry-run"]
    )
    workbook.save(path)


def main(argv: list[str]) -> None:
    output = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    output.mkdir(parents=True, exist_ok=True)
    write_csv(output / CSV_NAME)
    write_xlsx(output / XLSX_NAME)
    print(f"wrote {output / CSV_NAME} and {output / XLSX_NAME}")


if __name__ == "__main__":
    main(sys.argv)
