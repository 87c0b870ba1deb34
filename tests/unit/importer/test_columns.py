"""Reading cells and headings the way councils write them."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from services.importer.columns import (
    Field,
    MonthEnd,
    field_for_heading,
    format_money,
    money_scale,
    parse_date,
    parse_money,
    tabulate,
)


@pytest.mark.parametrize(
    ("cell", "pounds"),
    [
        ("£4.675m", "4675000.00"),
        ("£785k", "785000.00"),
        ("£785K", "785000.00"),
        ("£120,000", "120000.00"),
        ("4675000", "4675000.00"),
        ("£ 1,234.56", "1234.56"),
        ("£1.2 million", "1200000.00"),
        ("GBP 50000", "50000.00"),
        (" 99000 ", "99000.00"),
        (4675000, "4675000.00"),
        (120000.0, "120000.00"),
        (0.1, "0.10"),
        (Decimal("14500"), "14500.00"),
    ],
)
def test_understands_money_as_registers_write_it(cell, pounds):
    assert parse_money(cell) == Decimal(pounds)


@pytest.mark.parametrize(
    ("cell", "why"),
    [
        ("1,2", "a comma separates thousands"),
        ("12,34", "a comma separates thousands"),
        ("1234,567", "a comma separates thousands"),
        ("£1,5m", "a comma separates thousands"),
        ("1,234.567", "fractions of a penny"),
        ("1.234", "fractions of a penny"),
        ("1.234,56", "the European way"),
        ("€1.234.567,89", "the European way"),
    ],
)
def test_money_that_could_be_read_two_ways_is_refused_not_guessed(cell, why):
    with pytest.raises(ValueError, match=rf"^{re.escape(repr(cell))} is ambiguous: .*{why}"):
        parse_money(cell)


def test_unambiguous_money_with_separators_and_units_still_parses():
    assert parse_money("1,234") == Decimal("1234.00")
    assert parse_money("£4.25m") == Decimal("4250000.00")
    assert parse_money("£4.6755m") == Decimal("4675500.00")
    assert parse_money("4.675", Decimal(1000)) == Decimal("4675.00")  # a £k column
    assert parse_money(1234.567) == Decimal("1234.57")  # an Excel number is not text


def test_amounts_from_text_and_from_excel_numbers_are_equal_so_event_ids_match():
    assert parse_money("4675000") == parse_money(4675000) == parse_money("£4.675m")
    assert str(parse_money("4675000")) == str(parse_money(4675000.0))


@pytest.mark.parametrize("cell", ["lots", "£", "12 apples", "£1.2.3", "", True])
def test_refuses_what_is_not_money_and_shows_how_to_write_it(cell):
    with pytest.raises(ValueError, match=r"is not an amount of money .*£785k"):
        parse_money(cell)


def test_plain_numbers_under_a_thousands_heading_are_thousands_but_explicit_units_win():
    assert money_scale("Budget (£k)") == 1000
    assert money_scale("Budget £000s") == 1000
    assert money_scale("Budget (£m)") == 1_000_000
    assert money_scale("Budget") == 1
    assert parse_money("4,675", Decimal(1000)) == Decimal("4675000.00")
    assert parse_money(4675, Decimal(1000)) == Decimal("4675000.00")
    assert parse_money("£785k", Decimal(1000)) == Decimal("785000.00")


def test_money_reads_back_as_people_write_it():
    assert format_money(Decimal("4675000.00")) == "£4,675,000"
    assert format_money(Decimal("1234.50")) == "£1,234.50"
    assert format_money(Decimal("-20000")) == "-£20,000"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2024-03-15", dt.date(2024, 3, 15)),
        ("2024-03-15 00:00:00", dt.date(2024, 3, 15)),
        ("2024-03-15T00:00:00", dt.date(2024, 3, 15)),
        ("15/03/2024", dt.date(2024, 3, 15)),
        ("03/04/2024", dt.date(2024, 4, 3)),  # day first: UK registers
        ("15-03-24", dt.date(2024, 3, 15)),
        ("15.03.2024", dt.date(2024, 3, 15)),
        ("15 March 2024", dt.date(2024, 3, 15)),
        ("15th Mar 2024", dt.date(2024, 3, 15)),
        ("1st Sept 2024", dt.date(2024, 9, 1)),
        ("15-Mar-2024", dt.date(2024, 3, 15)),
        (dt.datetime(2024, 3, 15, 0, 0), dt.date(2024, 3, 15)),
        (dt.date(2024, 3, 15), dt.date(2024, 3, 15)),
        (45366, dt.date(2024, 3, 15)),  # an Excel serial shown as a number
    ],
)
def test_understands_dates_as_registers_write_them(cell, expected):
    parsed = parse_date(cell, MonthEnd.last)
    assert parsed.value == expected
    assert not parsed.month_only


@pytest.mark.parametrize(
    ("cell", "start", "completion"),
    [
        ("Mar-24", dt.date(2024, 3, 1), dt.date(2024, 3, 31)),
        ("March 2024", dt.date(2024, 3, 1), dt.date(2024, 3, 31)),
        ("Feb 2024", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ("Sept-23", dt.date(2023, 9, 1), dt.date(2023, 9, 30)),
        ("2024-06", dt.date(2024, 6, 1), dt.date(2024, 6, 30)),
        ("06/2024", dt.date(2024, 6, 1), dt.date(2024, 6, 30)),
    ],
)
def test_a_month_alone_is_its_first_day_for_a_start_and_last_day_for_a_completion(
    cell, start, completion
):
    assert parse_date(cell, MonthEnd.first).value == start
    assert parse_date(cell, MonthEnd.last).value == completion
    assert parse_date(cell, MonthEnd.last).month_only


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("31/02/2024", "day is out of range"),
        ("Summer 2024", "'summer' is not a month"),
        ("next week", "is not a date"),
        ("2024/13/01", "is not a date"),
    ],
)
def test_refuses_what_is_not_a_date_and_says_why(cell, message):
    with pytest.raises(ValueError, match=message):
        parse_date(cell, MonthEnd.first)


@pytest.mark.parametrize(
    ("heading", "field"),
    [
        ("Ref", Field.ref),
        ("Scheme Ref.", Field.ref),
        ("Scheme Description", Field.description),
        ("Budget", Field.budget),
        ("Budget (£)", Field.budget),
        ("Budget (£k)", Field.budget),
        ("budget_gbp", Field.budget),
        ("Funding Source", Field.funding),
        ("Funding Source(s)", Field.funding),
        ("Source of Funding", Field.funding),
        ("Original Start Date", Field.original_start),
        ("Original Completion Date", Field.original_completion),
        ("Actual Start Date", Field.actual_start),
        ("Anti. Completion Date", Field.anticipated_completion),
        ("ANTICIPATED  COMPLETION", Field.anticipated_completion),
        ("anticipated_completion", Field.anticipated_completion),
        ("Completion Date", Field.actual_completion),
        ("Practical Completion", Field.actual_completion),
        ("Contractor", Field.contractor),
        ("Contract Length", Field.contract_length),
        ("Progress Update", Field.progress_update),
        ("Public Sensitivity", Field.public_sensitivity),
        ("Forecast Outturn (£)", Field.forecast_outturn),
        ("Project Manager", Field.project_manager),
    ],
)
def test_matches_the_headings_councils_use(heading, field):
    assert field_for_heading(heading) is field


def test_finds_the_header_below_a_title_and_numbers_rows_as_the_spreadsheet_does():
    grid = [
        (1, ["CYPE Capital Programme, July 2024", None, None]),
        (2, [None, None, None]),
        (3, ["Ref", "Scheme Description", "Budget"]),
        (4, ["CYPE-001", "Expansion", "£4m"]),
        (5, [None, None, None]),
        (6, ["CYPE-002", "Conversion", "£1.1m"]),
    ]
    sheet = tabulate("register.xlsx", grid)
    assert sheet.header_row == 3
    assert [r.number for r in sheet.rows] == [4, 6]
    assert sheet.rows[1].get(Field.budget) == "£1.1m"


def test_reports_every_heading_it_does_not_import_and_why():
    grid = [(1, ["Ref", "Description", "Budget", "Programme RAG", "Ward", "Total Budget"])]
    sheet = tabulate("register.csv", grid)
    assert dict(sheet.unused_headings) == {
        "Programme RAG": "RAG is computed by the tracker from the dates and budget",
        "Ward": "not a heading the importer knows",
        "Total Budget": "the earlier column 'Budget' is used",
    }


@pytest.mark.parametrize("cell", ["31/12/9999", "0024-03-15", "Dec-2150", 2_958_000])
def test_a_date_no_capital_scheme_can_have_is_refused_with_the_range(cell):
    with pytest.raises(ValueError, match=r"outside the dates a capital scheme can have"):
        parse_date(cell, MonthEnd.last)
