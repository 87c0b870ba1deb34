"""What the importer says about a register: each finding has a severity and a kind.

- note: how a cell was read (a month alone, 'TBC'); nothing lost.
- warning: something assumed or not used; the row is still imported.
- error: the row (or, for missing columns, the file) is refused.

`Kind` names are stable: scripts read them from `--format json`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    note = "note"  # how a cell was read; nothing lost
    warning = "warning"  # assumed, or not used: the row is still imported
    error = "error"  # the row is refused


class Kind(StrEnum):
    # errors
    missing_columns = "missing_columns"
    missing_value = "missing_value"
    bad_reference = "bad_reference"
    bad_money = "bad_money"
    bad_date = "bad_date"
    bad_funding = "bad_funding"
    dates_out_of_order = "dates_out_of_order"
    duplicate_reference = "duplicate_reference"
    invalid_event = "invalid_event"
    rejected_by_tracker = "rejected_by_tracker"
    not_permitted = "not_permitted"
    misspelt_name = "misspelt_name"
    # warnings
    baseline_from_anticipated = "baseline_from_anticipated"
    no_baseline = "no_baseline"
    anticipated_from_original = "anticipated_from_original"
    funding_unallocated = "funding_unallocated"
    funding_mismatch = "funding_mismatch"
    future_date = "future_date"
    repeated_row = "repeated_row"
    details_not_updated = "details_not_updated"
    start_differs = "start_differs"
    older_value = "older_value"
    sensitivity_not_understood = "sensitivity_not_understood"
    # notes
    month_only_date = "month_only_date"
    placeholder = "placeholder"
    unused_column = "unused_column"
    totals_row = "totals_row"


KIND_SUMMARY: dict[Kind, str] = {
    Kind.baseline_from_anticipated: "no original completion date: the anticipated date is "
    "the baseline",
    Kind.no_baseline: "no original or anticipated completion date: slippage not measurable",
    Kind.anticipated_from_original: "no anticipated completion date: the original one is assumed",
    Kind.funding_unallocated: "funding split not given: held as Unallocated",
    Kind.funding_mismatch: "funding lines do not add up to the budget",
    Kind.future_date: "actual dates after the register's date: not used",
    Kind.repeated_row: "rows repeated exactly: skipped",
    Kind.details_not_updated: "registered details differ: not changed by an import",
    Kind.start_differs: "actual start differs from the tracker's: not changed",
    Kind.older_value: "values the tracker has moved on from: not reverted",
    Kind.sensitivity_not_understood: "public sensitivity not understood",
}
"""One line per kind of warning, for summaries that count them."""


@dataclass(frozen=True)
class Finding:
    severity: Severity
    kind: Kind
    message: str

    @classmethod
    def error(cls, kind: Kind, message: str) -> Finding:
        return cls(Severity.error, kind, message)

    @classmethod
    def warning(cls, kind: Kind, message: str) -> Finding:
        return cls(Severity.warning, kind, message)

    @classmethod
    def note(cls, kind: Kind, message: str) -> Finding:
        return cls(Severity.note, kind, message)
