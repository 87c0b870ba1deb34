"""Money and dates as people in a council write them: `£4.25m`, `£785k`, `£120,000`,
`11/04/2025` (day first), `15 March 2024`, `Mar-24`, or typed spreadsheet cells.

One parser for every way in: the register importer, `capital log` flags and the API. An
amount that could be read two ways (`1,2`, `1,234.567`, `1.234,56`) is refused with the
reason, never guessed. Pure: standard library only.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from events.limits import plausible_date

Cell = str | int | float | Decimal | dt.date | dt.datetime | None
"""One spreadsheet cell as a reader gives it: CSV gives text, Excel typed values."""

PENNY = Decimal("0.01")
EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial day 0 in Excel's (1900, Lotus-compatible) system


_MONEY = re.compile(
    r"^(?P<sign>-)?\s*(?:£|gbp)?\s*(?P<minus>-)?\s*"
    r"(?P<number>\d[\d,]*(?:\.\d*)?|\.\d+)\s*"
    r"(?P<unit>k|m|mn|bn|thousand|million|millions|billion)?$",
    re.IGNORECASE,
)
_UNITS = {
    "k": Decimal(1000),
    "thousand": Decimal(1000),
    "m": Decimal(1_000_000),
    "mn": Decimal(1_000_000),
    "million": Decimal(1_000_000),
    "millions": Decimal(1_000_000),
    "bn": Decimal(1_000_000_000),
    "billion": Decimal(1_000_000_000),
}
MONEY_EXAMPLES = "e.g. 120000, £120,000, £785k or £4.675m"


MONEY_LIMIT = Decimal(10) ** 13
"""Amounts from £10 trillion up are not a scheme's money: the contract holds 15 digits."""
_EUROPEAN = re.compile(r"\d\.\d{3}(?:\.\d{3})*,\d")


def parse_money(cell: Cell, scale: Decimal = Decimal(1)) -> Decimal:
    """Pounds as a Decimal to the penny: `£4.675m`, `£785k`, `£120,000`, `4675000`, or an
    Excel number. `scale` applies to plain numbers from a column headed in £k or £m.
    Text that could be read two ways is refused, not guessed: `1,2` (a comma that does not
    separate thousands), `1,234.567` (fractions of a penny), `1.234,56` (European).
    ValueError says what was wrong."""
    if isinstance(cell, bool) or cell is None:
        raise ValueError(f"{cell!r} is not an amount of money ({MONEY_EXAMPLES})")
    if isinstance(cell, int | float | Decimal):
        # repr of a float is the shortest text that round-trips: 0.1 stays 0.1, not 0.1000..01
        number = Decimal(repr(cell) if isinstance(cell, float) else cell)
        if not number.is_finite():
            raise ValueError(f"{cell!r} is not an amount of money ({MONEY_EXAMPLES})")
        return _pennies(number * scale, str(cell))
    if isinstance(cell, dt.date):
        raise ValueError(f"{cell.isoformat()} is a date, not an amount of money")
    text = " ".join(cell.split())
    match = _MONEY.match(text)
    if match is None:
        if _EUROPEAN.search(text):
            raise ValueError(
                f"{text!r} is ambiguous: it reads as the European way of writing pounds "
                "(points between thousands, a comma before the pence); write it as 1,234.56"
            )
        raise ValueError(f"{text!r} is not an amount of money ({MONEY_EXAMPLES})")
    whole, _, _ = match["number"].partition(".")
    groups = whole.split(",")
    if len(groups) > 1 and not (
        1 <= len(groups[0]) <= 3 and all(len(group) == 3 for group in groups[1:])
    ):
        raise ValueError(
            f"{text!r} is ambiguous: a comma separates thousands (as in 1,234,000), and "
            f"{whole!r} is not grouped in threes; write the amount without it"
        )
    try:
        number = Decimal(match["number"].replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount of money ({MONEY_EXAMPLES})") from None
    unit = match["unit"]
    number *= _UNITS[unit.lower()] if unit else scale
    if abs(number) < MONEY_LIMIT and number != number.quantize(PENNY):
        raise ValueError(
            f"{text!r} is ambiguous: it has fractions of a penny (the point might separate "
            "thousands); write pounds with at most two decimal places, or a unit (£1.234m)"
        )
    return _pennies(-number if match["sign"] or match["minus"] else number, text)


def _pennies(amount: Decimal, written: str) -> Decimal:
    if abs(amount) >= MONEY_LIMIT:
        raise ValueError(f"{written!r} is more money than a scheme can have")
    return amount.quantize(PENNY, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal) -> str:
    """£4,675,000 or £1,234.50: how people read amounts in messages."""
    places = 0 if amount == amount.to_integral_value() else 2
    sign = "-" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.{places}f}"


class MonthEnd(StrEnum):
    """Which day a month-only date ('Mar-24', 'March 2024') means."""

    first = "first"  # starts and approvals: the month's first day
    last = "last"  # completions: the month's last day


@dataclass(frozen=True)
class ParsedDate:
    value: dt.date
    month_only: bool = False


_MONTHS = {
    name: number
    for number in range(1, 13)
    for name in (calendar.month_name[number].lower(), calendar.month_abbr[number].lower())
} | {"sept": 9}
_MONTH = "(?P<month>[a-z]+)\\.?"
_YEAR = "(?P<year>\\d{4}|\\d{2})"
_DATE_PATTERNS = (
    # 2024-03-15, 2024-03-15T00:00:00, 2024-03-15 00:00:00 (CSV saved from Excel)
    re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?:[ t][\d:.]+)?$"),
    # 15/03/2024, 15-03-24, 15.03.2024: day first, as UK registers are written
    re.compile(r"^(?P<day>\d{1,2})[/.-](?P<month>\d{1,2})[/.-]" + _YEAR + "$"),
    # 15 March 2024, 15th Mar 24, 15-Mar-2024
    re.compile(r"^(?P<day>\d{1,2})(?:st|nd|rd|th)?[\s-]+" + _MONTH + r"[\s,-]+" + _YEAR + "$"),
)
_MONTH_PATTERNS = (
    re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})$"),  # 2024-03
    re.compile(r"^(?P<month>\d{1,2})/(?P<year>\d{4})$"),  # 03/2024
    re.compile("^" + _MONTH + r"[\s,/-]+" + _YEAR + "$"),  # Mar-24, March 2024
)
DATE_EXAMPLES = "e.g. 2024-03-15, 15/03/2024, 15 March 2024, or Mar-24 for a month"


def parse_date(cell: Cell, month_end: MonthEnd) -> ParsedDate:
    """A date from ISO text, `dd/mm/yyyy` (day first), `15 March 2024`, a month alone
    (`Mar-24`, `March 2024`, `2024-03`: the first or last day per `month_end`), or an Excel
    date cell, in the range `events.limits.plausible_date` allows. ValueError says what
    was wrong."""
    parsed = _read_date(cell, month_end)
    plausible_date(parsed.value)
    return parsed


def parse_day(text: str) -> dt.date:
    """One day, as a person types it into a form or a flag: `2025-04-11`, `11/04/2025`
    (day first), `11 April 2025`. A month alone is refused: which day it means depends on
    the field. ValueError says what was wrong."""
    parsed = parse_date(text, MonthEnd.first)
    if parsed.month_only:
        raise ValueError(f"{text.strip()!r} gives only a month: give the day, e.g. 11/04/2025")
    return parsed.value


def _read_date(cell: Cell, month_end: MonthEnd) -> ParsedDate:
    if isinstance(cell, dt.datetime):
        return ParsedDate(cell.date())
    if isinstance(cell, dt.date):
        return ParsedDate(cell)
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return ParsedDate(_excel_serial(cell))
    text = " ".join(str(cell or "").split()).lower()
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            return ParsedDate(_date(match["year"], match["month"], match["day"], text))
    for pattern in _MONTH_PATTERNS:
        match = pattern.match(text)
        if match:
            first = _date(match["year"], match["month"], "1", text)
            if month_end is MonthEnd.first:
                return ParsedDate(first, month_only=True)
            last_day = calendar.monthrange(first.year, first.month)[1]
            return ParsedDate(first.replace(day=last_day), month_only=True)
    raise ValueError(f"{str(cell).strip()!r} is not a date ({DATE_EXAMPLES})")


def _date(year: str, month: str, day: str, text: str) -> dt.date:
    month_number = int(month) if month.isdigit() else _MONTHS.get(month)
    if month_number is None:
        raise ValueError(f"{text!r}: {month!r} is not a month")
    full_year = int(year) + 2000 if len(year) == 2 else int(year)
    try:
        return dt.date(full_year, month_number, int(day))
    except ValueError as error:
        raise ValueError(f"{text!r} is not a date ({error})") from None


def _excel_serial(serial: float) -> dt.date:
    """Excel stores a date as days since 1899-12-30; a cell not formatted as a date shows
    the number, and some tools export it that way."""
    if not 1 <= serial < 2_958_466:  # 9999-12-31
        raise ValueError(f"{serial!r} is not a date ({DATE_EXAMPLES})")
    return EXCEL_EPOCH + dt.timedelta(days=int(serial))
