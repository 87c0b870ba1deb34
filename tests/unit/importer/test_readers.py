"""The same register saved as CSV or as an Excel workbook gives the same rows and events."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from capital.cli.demo import register_path
from services.importer import RegisterFileError, Severity, plan_import, read_register
from services.importer.columns import Field
from tests.conftest import REPO

RECORDED_ON = dt.date(2024, 7, 29)
RECORDED_AT = dt.datetime(2024, 7, 29, 12, tzinfo=dt.UTC)
HEADINGS = [
    "Ref",
    "Scheme Description",
    "Budget",
    "Funding Source",
    "Funding Approved",
    "Original Start Date",
    "Original Completion Date",
    "Actual Start Date",
    "Anti. Completion Date",
    "Completion Date",
    "Progress Update",
]
# The same three schemes as a CSV export writes them and as Excel holds them (numbers,
# date cells, a month-only text date, a multi-line cell).
CSV_ROWS = [
    [
        "CYPE-003", "Two storey extension to create 8 additional SEND classes", "£4.675m",
        "Policy Provision:4675000", "2020-03", "13/06/2022", "", "13/06/2022", "17/08/2023",
        "", "All works completed\nSnagging on going",
    ],
    [
        "CYPE-005", "Conversion of a vacant dance studio into a Contact Centre", "£785k",
        "Policy Provision", "Feb-23", "2023-12-01", "", "2023-12-01", "", "13/05/2024",
        "Project completed with hand-over to end-user.",
    ],
    [
        "CYPE-028", "Safeguarding Works, Relocation of Reception", "99000", "CCIP6:99000", "",
        "21/11/2022", "06/02/2023", "21/11/2022", "Mar-23", "", "Project is 90% complete",
    ],
]  # fmt: skip
XLSX_ROWS = [
    [
        "CYPE-003", "Two storey extension to create 8 additional SEND classes", 4675000,
        "Policy Provision:4675000", dt.datetime(2020, 3, 1), dt.datetime(2022, 6, 13), None,
        dt.datetime(2022, 6, 13), dt.datetime(2023, 8, 17), None,
        "All works completed\nSnagging on going",
    ],
    [
        "CYPE-005", "Conversion of a vacant dance studio into a Contact Centre", 785000.0,
        "Policy Provision", dt.datetime(2023, 2, 1), dt.datetime(2023, 12, 1), None,
        dt.datetime(2023, 12, 1), None, dt.datetime(2024, 5, 13),
        "Project completed with hand-over to end-user.",
    ],
    [
        "CYPE-028", "Safeguarding Works, Relocation of Reception", 99000, "CCIP6:99000", None,
        dt.datetime(2022, 11, 21), dt.datetime(2023, 2, 6), dt.datetime(2022, 11, 21),
        "Mar-23", None, "Project is 90% complete",
    ],
]  # fmt: skip


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADINGS)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]], above: int = 0, sheet: str = "Register"):
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    for _ in range(above):
        worksheet.append(["Children, Young People and Education: Capital Programme"])
    worksheet.append(HEADINGS)
    for cells in rows:
        worksheet.append(cells)
    workbook.save(path)
    return path


def events_of(path: Path, sheet: str | None = None) -> list[tuple[int, dict]]:
    result = plan_import(read_register(path, sheet), RECORDED_ON, RECORDED_AT)
    assert not result.refused, result
    return [(number, event.model_dump()) for number, event in result.numbered_events()]


def test_an_excel_workbook_gives_the_same_events_as_the_same_register_in_csv(tmp_path):
    from_csv = events_of(write_csv(tmp_path / "register.csv", CSV_ROWS))
    from_xlsx = events_of(write_xlsx(tmp_path / "register.xlsx", XLSX_ROWS))
    assert len(from_csv) == 12
    assert from_xlsx == from_csv


def test_row_numbers_are_the_spreadsheet_rows_even_below_a_title(tmp_path):
    sheet = read_register(write_xlsx(tmp_path / "register.xlsx", XLSX_ROWS, above=2))
    assert sheet.header_row == 3
    assert [row.number for row in sheet.rows] == [4, 5, 6]


def test_a_quoted_cell_spanning_lines_is_still_one_csv_row(tmp_path):
    sheet = read_register(write_csv(tmp_path / "register.csv", CSV_ROWS))
    assert [row.number for row in sheet.rows] == [2, 3, 4]
    assert sheet.rows[0].get(Field.progress_update) == "All works completed\nSnagging on going"


def test_a_csv_saved_by_excel_in_the_windows_code_page_reads_its_pound_signs(tmp_path):
    path = write_csv(tmp_path / "register.csv", CSV_ROWS, encoding="cp1252")
    assert events_of(path) == events_of(write_csv(tmp_path / "utf8.csv", CSV_ROWS))


def test_reads_the_named_sheet_and_lists_the_sheets_when_it_is_not_there(tmp_path):
    path = write_xlsx(tmp_path / "register.xlsx", XLSX_ROWS, sheet="July 2024")
    assert len(read_register(path, "July 2024").rows) == 3
    with pytest.raises(RegisterFileError, match=r"no sheet 'June' \(sheets: 'July 2024'\)"):
        read_register(path, "June")


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("register.xls", b"\xd0\xcf\x11\xe0", "old-style .xls workbook: save it as .xlsx or CSV"),
        ("register.xlsx", b"not a zip", "is not a readable .xlsx workbook"),
        ("register.pdf", b"%PDF", "expected a .csv or .xlsx file"),
    ],
)
def test_a_file_that_is_not_a_register_is_refused_with_what_to_do(tmp_path, name, content, says):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RegisterFileError, match=says):
        read_register(path)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(RegisterFileError, match="no such file"):
        read_register(tmp_path / "nowhere.csv")


def test_a_directory_is_refused_as_such(tmp_path):
    with pytest.raises(RegisterFileError, match="is a directory: give the register file"):
        read_register(tmp_path)


def test_a_csv_the_csv_module_cannot_parse_is_refused(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text('Ref,Budget\nA,"' + "x" * 200_000 + '"\n', encoding="utf-8")
    with pytest.raises(
        RegisterFileError, match=r"huge\.csv is not a readable CSV file: field larger"
    ):
        read_register(path)


def test_a_workbook_with_a_damaged_sheet_is_refused(tmp_path):
    template = register_path().parent / "register-template.xlsx"
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(damaged, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name.startswith("xl/worksheets/"):
                data = b"<worksheet><sheetData><row"  # cut off mid-element
            target.writestr(name, data)
    with pytest.raises(RegisterFileError, match=r"damaged\.xlsx is not a readable \.xlsx workbook"):
        read_register(damaged)


# --- what ships ---------------------------------------------------------------------


def test_the_templates_import_cleanly_and_the_workbook_matches_the_csv():
    data = register_path().parent
    from_csv = events_of(data / "register-template.csv")
    from_xlsx = events_of(data / "register-template.xlsx")
    assert from_xlsx == from_csv
    table = read_register(data / "register-template.xlsx")
    assert table.unused_headings == ()
    assert set(table.columns) == set(Field)
    result = plan_import(table, RECORDED_ON, RECORDED_AT)
    assert result.counts(Severity.warning) == {}


def test_the_shipped_templates_are_what_the_script_writes(tmp_path):
    script = REPO / "scripts" / "make_register_template.py"
    subprocess.run([sys.executable, str(script), str(tmp_path)], check=True, capture_output=True)
    data = register_path().parent
    assert (tmp_path / "register-template.csv").read_text() == (
        data / "register-template.csv"
    ).read_text()
    for sheet in ("Register", "Guide"):
        written = openpyxl.load_workbook(tmp_path / "register-template.xlsx")[sheet]
        shipped = openpyxl.load_workbook(data / "register-template.xlsx")[sheet]
        assert list(written.values) == list(shipped.values)
