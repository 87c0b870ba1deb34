"""The register importer: a council's scheme register (CSV or Excel) becomes events.

- `readers`: a .csv or .xlsx file -> rows by field (`columns.tabulate`).
- `columns`: which heading is which field; money and date cells.
- `facts`: one row -> typed, checked facts.
- `register`: facts -> the events each row describes, with what was used, assumed and
  refused (`findings`), against what the tracker already holds.

`readers` does the file I/O; the rest is pure (standard library, pydantic, `events`).
Publishing the events is the application shell's job (`capital import-register`).
"""

from services.importer.columns import Field, RegisterTable
from services.importer.findings import KIND_SUMMARY, Finding, Kind, Severity
from services.importer.readers import RegisterFileError, read_register
from services.importer.register import ImportPlan, RecordedScheme, RowPlan, plan_import

__all__ = [
    "KIND_SUMMARY",
    "Field",
    "Finding",
    "ImportPlan",
    "Kind",
    "RecordedScheme",
    "RegisterFileError",
    "RegisterTable",
    "RowPlan",
    "Severity",
    "plan_import",
    "read_register",
]
