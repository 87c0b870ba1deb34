"""How figures read to people (tables, HTML, the pack, reasons). Machine formats (CSV,
XLSX, JSON) carry the values themselves, not these strings."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal

PENNY = Decimal("0.01")


def money(value: Decimal | None, pence: bool = True) -> str:
    """£1,234,567.89, or £1,234,568 with `pence=False`; negatives as -£1,234.00."""
    if value is None:
        return ""
    places = PENNY if pence else Decimal(1)
    rounded = value.quantize(places, rounding=ROUND_HALF_UP)
    text = f"£{abs(rounded):,.2f}" if pence else f"£{abs(rounded):,.0f}"
    return f"-{text}" if rounded < 0 else text


def signed_money(value: Decimal, pence: bool = True) -> str:
    """A change: +£8,500.00 or -£2,000.00."""
    return f"+{money(value, pence)}" if value > 0 else money(value, pence)


def day(value: dt.date | None) -> str:
    """31 Jan 2023: the way a council pack prints a date."""
    return value.strftime("%d %b %Y") if value else ""


def month(value: dt.date | None) -> str:
    return value.strftime("%b %Y") if value else ""


def percent(part: Decimal, whole: Decimal) -> str:
    if whole == 0:
        return ""
    share = (part * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{share}%"


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort S-2 before S-10 and CYPE-009 before CYPE-010."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.lower())
        for part in re.split(r"(\d+)", text)
        if part
    )


def full_title(title: str, description: str | None) -> str:
    """A scheme's title in full: a register without a title column names a scheme by a
    shortened description (ending "…"), which a committee paper prints whole."""
    shortened = title.removesuffix("…")
    if shortened != title and (description or "").startswith(shortened):
        return (description or "").removesuffix(".")
    return title
