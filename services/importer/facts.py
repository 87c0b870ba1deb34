"""One register row read into typed, checked facts, with a finding for everything that
could not be used or had to be assumed. Messages name the column as the register heads it.

Pure: the standard library, pydantic and `events` only.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from pydantic import TypeAdapter, ValidationError

from events.envelope import SchemeId
from services.importer.columns import (
    Cell,
    Field,
    MonthEnd,
    RegisterRow,
    RegisterTable,
    cell_text,
    format_money,
    is_placeholder,
    parse_date,
    parse_money,
)
from services.importer.findings import Finding, Kind, Severity

SENSITIVITY = {
    "low": "low", "l": "low", "green": "low", "g": "low",
    "medium": "medium", "m": "medium", "med": "medium", "amber": "medium", "a": "medium",
    "high": "high", "h": "high", "red": "high", "r": "high",
}  # fmt: skip
_SCHEME_ID = TypeAdapter(SchemeId)


@dataclass(frozen=True)
class FundingFact:
    source: str
    amount: Decimal | None
    """None: the register names the source but not its share."""


@dataclass(frozen=True)
class SchemeFacts:
    """One row read into typed values, checked for consistency."""

    scheme_id: str
    title: str
    description: str | None
    budget: Decimal
    funding: tuple[FundingFact, ...]
    funding_approved: dt.date | None
    original_start: dt.date | None
    original_completion: dt.date | None
    actual_start: dt.date | None
    anticipated_completion: dt.date | None
    actual_completion: dt.date | None
    contractor: str | None
    contract_length: str | None
    project_manager: str | None
    programme: str | None
    public_sensitivity: str | None
    forecast_outturn: Decimal | None
    progress: str | None


_FUNDING_SPLIT = re.compile(r"[;\n]")
_TRAILING_POUNDS = re.compile(r"^(?P<source>.*?)[\s:–-]*(?P<amount>£\s*[\d.,]+\s*[a-z]*)$", re.I)


def read_facts(
    table: RegisterTable, row: RegisterRow, recorded_on: dt.date
) -> tuple[SchemeFacts | None, list[Finding]]:
    """The row's facts (None if it must be refused) and the findings on reading it."""
    reader = _RowReader(table, row, recorded_on)
    return reader.facts(), reader.findings


class _RowReader:
    """Reads one row's cells, collecting a finding for everything it could not use or had
    to assume. Messages name the column as the register heads it."""

    def __init__(self, table: RegisterTable, row: RegisterRow, recorded_on: dt.date) -> None:
        self.table = table
        self.row = row
        self.recorded_on = recorded_on
        self.findings: list[Finding] = []

    def facts(self) -> SchemeFacts | None:
        ref = self.reference()
        description = self.text(Field.description)
        title = self.text(Field.title) or (short_title(description) if description else None)
        if title is None:
            self.error(Kind.missing_value, "no scheme description: every scheme needs one")
        budget = self.money(Field.budget, required=True)
        dates = {
            Field.original_start: self.date(Field.original_start, MonthEnd.first),
            Field.original_completion: self.date(Field.original_completion, MonthEnd.last),
            Field.actual_start: self.date(Field.actual_start, MonthEnd.first),
            Field.anticipated_completion: self.date(Field.anticipated_completion, MonthEnd.last),
            Field.actual_completion: self.date(Field.actual_completion, MonthEnd.last),
        }
        approved = self.date(Field.funding_approved, MonthEnd.first, note_month=False)
        funding = self.funding()
        forecast = self.money(Field.forecast_outturn)
        self.check_order(dates)
        if self.findings_have_errors() or ref is None or title is None or budget is None:
            return None
        actual_start = self.not_after_register(Field.actual_start, dates[Field.actual_start])
        actual_completion = self.not_after_register(
            Field.actual_completion, dates[Field.actual_completion]
        )
        if approved is not None and approved > self.recorded_on:
            self.warn(
                Kind.future_date,
                f"{self.heading(Field.funding_approved)} {approved} is after {self.recorded_on}, "
                "the date this register is recorded on",
            )
        return SchemeFacts(
            scheme_id=ref,
            title=title,
            description=description,
            budget=budget,
            funding=funding,
            funding_approved=approved,
            original_start=dates[Field.original_start],
            original_completion=dates[Field.original_completion],
            actual_start=actual_start,
            anticipated_completion=dates[Field.anticipated_completion],
            actual_completion=actual_completion,
            contractor=self.text(Field.contractor),
            contract_length=self.text(Field.contract_length),
            project_manager=self.text(Field.project_manager),
            programme=self.text(Field.programme),
            public_sensitivity=self.sensitivity(),
            forecast_outturn=forecast,
            progress=self.text(Field.progress_update),
        )

    # -- findings

    def heading(self, field: Field) -> str:
        return self.table.heading(field)

    def error(self, kind: Kind, message: str) -> None:
        self.findings.append(Finding.error(kind, message))

    def warn(self, kind: Kind, message: str) -> None:
        self.findings.append(Finding.warning(kind, message))

    def note(self, kind: Kind, message: str) -> None:
        self.findings.append(Finding.note(kind, message))

    def findings_have_errors(self) -> bool:
        return any(f.severity is Severity.error for f in self.findings)

    # -- cells

    def text(self, field: Field) -> str | None:
        return cell_text(self.row.get(field))

    def known_cell(self, field: Field) -> Cell:
        """The cell, or None when empty or a placeholder like 'TBC' (which is noted)."""
        text = cell_text(self.row.get(field))
        if text is not None and is_placeholder(text):
            self.note(Kind.placeholder, f"{self.heading(field)} {text!r} read as not given")
            return None
        return self.row.get(field) if text is not None else None

    def reference(self) -> str | None:
        ref = self.text(Field.ref)
        if ref is None or is_placeholder(ref):
            self.error(Kind.missing_value, f"no {self.heading(Field.ref)}: every scheme needs one")
            return None
        try:
            return _SCHEME_ID.validate_python(ref)
        except ValidationError:
            self.error(
                Kind.bad_reference,
                f"{self.heading(Field.ref)} {ref!r} is not usable: up to 64 letters, digits and "
                ". _ / - (no spaces), starting with a letter or digit",
            )
            return None

    def money(self, field: Field, required: bool = False) -> Decimal | None:
        cell = self.known_cell(field)
        if cell is None:
            if required:
                self.error(Kind.missing_value, f"no {self.heading(field)}: every scheme needs one")
            return None
        column = self.table.columns[field]
        try:
            amount = parse_money(cell, column.scale)
        except ValueError as error:
            self.error(Kind.bad_money, f"{self.heading(field)}: {error}")
            return None
        if amount < 0:
            self.error(Kind.bad_money, f"{self.heading(field)} {format_money(amount)} is negative")
            return None
        return amount

    def date(self, field: Field, month_end: MonthEnd, note_month: bool = True) -> dt.date | None:
        cell = self.known_cell(field)
        if cell is None:
            return None
        try:
            parsed = parse_date(cell, month_end)
        except ValueError as error:
            self.error(Kind.bad_date, f"{self.heading(field)}: {error}")
            return None
        if parsed.month_only and note_month:
            self.note(
                Kind.month_only_date,
                f"{self.heading(field)} {cell_text(cell)!r} gives only a month: read as "
                f"{parsed.value} (the {month_end.value} day)",
            )
        return parsed.value

    def funding(self) -> tuple[FundingFact, ...]:
        raw = self.known_cell(Field.funding)
        if raw is None:
            return ()
        scale = self.table.columns[Field.funding].scale
        lines = []
        for part in _FUNDING_SPLIT.split(str(raw)):
            text = " ".join(part.split())
            if not text:
                continue
            source, amount_text = _split_funding(text)
            if not source:
                self.error(
                    Kind.bad_funding, f"{self.heading(Field.funding)}: {text!r} names no source"
                )
                continue
            amount = None
            if amount_text:
                try:
                    amount = parse_money(amount_text, scale)
                except ValueError as error:
                    self.error(Kind.bad_funding, f"{self.heading(Field.funding)} {source}: {error}")
                    continue
            lines.append(FundingFact(source, amount))
        return tuple(lines)

    def sensitivity(self) -> str | None:
        text = self.text(Field.public_sensitivity)
        if text is None:
            return None
        value = SENSITIVITY.get(text.lower())
        if value is None:
            self.warn(
                Kind.sensitivity_not_understood,
                f"{self.heading(Field.public_sensitivity)} {text!r} not understood (use low, "
                "medium or high): left as low",
            )
        return value

    # -- consistency

    def check_order(self, dates: dict[Field, dt.date | None]) -> None:
        """Completion before start is a typing error somewhere: refuse rather than guess."""
        start_field = (
            Field.actual_start if dates[Field.actual_start] is not None else Field.original_start
        )
        pairs = [
            (Field.original_start, Field.original_completion),
            (start_field, Field.anticipated_completion),
            (Field.actual_start, Field.actual_completion),
        ]
        for start, end in pairs:
            began, ended = dates[start], dates[end]
            if began is not None and ended is not None and ended < began:
                self.error(
                    Kind.dates_out_of_order,
                    f"{self.heading(end)} {ended} is before the {self.heading(start)} {began}",
                )

    def not_after_register(self, field: Field, value: dt.date | None) -> dt.date | None:
        """An actual date after the register's own date has not happened yet."""
        if value is None or value <= self.recorded_on:
            return value
        self.warn(
            Kind.future_date,
            f"{self.heading(field)} {value} is after {self.recorded_on}, the date this register "
            "is recorded on: not used",
        )
        return None


TITLE_LENGTH = 60


def short_title(description: str) -> str:
    """A register without a title column names schemes by their description, which can
    run to a paragraph: boards, cards and alerts need a line. The description is kept."""
    text = description.removesuffix(".")
    if len(text) <= TITLE_LENGTH:
        return text
    cut = text[: TITLE_LENGTH - 1].rsplit(" ", 1)[0].rstrip(" ,;:-–")
    return f"{cut}…"


def _split_funding(text: str) -> tuple[str, str]:
    """'Policy Provision:600000' or 'DfE £500k' -> (source, amount text); a source alone
    ('CCIP6', 'Salix:') has no amount. A trailing number without £ or a colon is part of
    the name (CCIP6)."""
    if ":" in text:
        source, _, amount = text.rpartition(":")
        return source.strip(), amount.strip()
    match = _TRAILING_POUNDS.match(text)
    if match:
        return match["source"].strip(), match["amount"]
    return text, ""
