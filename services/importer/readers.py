"""Reading a register file into rows by field: CSV or Excel (.xlsx), same rows either way.

The readers only turn a file into a grid of cells with spreadsheet row numbers; which
column is which is decided by `columns.tabulate`, so a sheet saved as CSV and the workbook
it came from give the same rows.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from services.importer.columns import Cell, RegisterTable, tabulate

CSV_SUFFIXES = frozenset({".csv", ".txt"})
EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm"})


class RegisterFileError(ValueError):
    """The file cannot be read as a register at all (not there, wrong kind, no such sheet)."""


def read_register(path: Path, sheet: str | None = None) -> RegisterTable:
    """The register in `path` (CSV, or the first sheet of an .xlsx unless `sheet` names one)."""
    if path.is_dir():
        raise RegisterFileError(f"{path} is a directory: give the register file")
    if not path.is_file():
        raise RegisterFileError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        sheet_name, grid = read_xlsx_grid(path, sheet)
        return tabulate(f"{path.name} [{sheet_name}]", grid)
    if sheet is not None:
        raise RegisterFileError(f"--sheet applies to Excel workbooks, not {path.name}")
    if suffix in CSV_SUFFIXES:
        return tabulate(path.name, read_csv_grid(path))
    if suffix == ".xls":
        raise RegisterFileError(
            f"{path.name} is an old-style .xls workbook: save it as .xlsx or CSV in Excel"
        )
    raise RegisterFileError(f"{path.name}: expected a .csv or .xlsx file")


def read_csv_grid(path: Path) -> list[tuple[int, list[Cell]]]:
    """Rows of a CSV file numbered as a spreadsheet shows them (a quoted cell may span
    lines; it is still one row)."""
    return [(number, list(cells)) for number, cells in enumerate(_csv_records(path), start=1)]


def _csv_records(path: Path) -> list[list[str]]:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise RegisterFileError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV" in the Windows code page, where £ is one byte (0xA3).
        text = raw.decode("cp1252", errors="replace")
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise RegisterFileError(f"{path.name} is not a readable CSV file: {error}") from None


def read_xlsx_grid(
    path: Path, sheet: str | None = None
) -> tuple[str, list[tuple[int, list[Cell]]]]:
    """(sheet name, rows) of one worksheet. Formula cells give the value Excel last saved."""
    import openpyxl  # only Excel imports pay for loading it

    try:
        workbook = openpyxl.load_workbook(path, data_only=True)
    except Exception as error:  # a damaged workbook: openpyxl raises zip, XML and value errors
        raise RegisterFileError(f"{path.name} is not a readable .xlsx workbook: {error}") from None
    try:
        if sheet is None:
            worksheet = workbook.worksheets[0]
        elif sheet in workbook.sheetnames:
            worksheet = workbook[sheet]
        else:
            names = ", ".join(repr(name) for name in workbook.sheetnames)
            raise RegisterFileError(f"{path.name} has no sheet {sheet!r} (sheets: {names})")
        rows = worksheet.iter_rows(values_only=True)
        grid = [(number, list(cells)) for number, cells in enumerate(rows, start=worksheet.min_row)]
        return worksheet.title, grid
    finally:
        workbook.close()
