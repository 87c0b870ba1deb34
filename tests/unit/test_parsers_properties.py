"""Any input to the parsers is either read correctly or refused with a reason: never
another exception, never a silent guess."""

from __future__ import annotations

import datetime as dt
import json
import string
from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from events import DecodeError, Envelope, decode_envelope
from events.codec import decode_stored
from events.limits import EARLIEST_DATE, LATEST_DATE
from events.values import MonthEnd, format_money, parse_date, parse_day, parse_money

MONEY_ALPHABET = string.digits + ",.£-kKmM €" + "abn"
DATE_ALPHABET = string.digits + "/-.: " + "MarchJunSepOctstndrh"


@given(st.one_of(st.text(), st.text(alphabet=MONEY_ALPHABET, max_size=16)))
@example("1,2")
@example("1.234,56")
@example("9" * 5000)
@example("£.5m")
def test_any_text_is_money_to_the_penny_or_refused_with_a_reason(text):
    try:
        amount = parse_money(text)
    except ValueError as error:
        assert str(error)
        return
    assert amount == amount.quantize(Decimal("0.01"))
    assert abs(amount) < Decimal(10) ** 13


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2))
def test_amounts_written_as_people_write_them_read_back_exactly(amount):
    assert parse_money(format_money(amount)) == amount


@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(),
        st.decimals(allow_nan=True, allow_infinity=True),
    )
)
def test_any_spreadsheet_number_is_money_or_refused(number):
    try:
        parse_money(number)
    except ValueError as error:
        assert str(error)


@given(st.one_of(st.text(), st.text(alphabet=DATE_ALPHABET, max_size=20)))
@example("31/02/2024")
@example("9999-12-31")
@example("00/00/00")
def test_any_text_is_a_plausible_date_or_refused_with_a_reason(text):
    try:
        parsed = parse_date(text, MonthEnd.last)
    except ValueError as error:
        assert str(error)
        return
    assert EARLIEST_DATE <= parsed.value <= LATEST_DATE


@given(st.dates(min_value=EARLIEST_DATE, max_value=LATEST_DATE))
def test_a_day_written_day_first_or_iso_reads_back(day):
    assert parse_day(day.strftime("%d/%m/%Y")) == day
    assert parse_day(day.isoformat()) == day
    assert parse_day(f"{day.day} {day:%B %Y}") == day


@given(st.one_of(st.floats(), st.integers(min_value=-(10**9), max_value=10**9)))
def test_any_excel_serial_is_a_date_or_refused(serial):
    try:
        parse_date(serial, MonthEnd.first)
    except ValueError as error:
        assert str(error)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
VALID = st.fixed_dictionaries(
    {
        "event_id": st.uuids().map(str),
        "type": st.just("progress.reported"),
        "scheme_id": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,20}", fullmatch=True),
        "occurred_on": st.dates(EARLIEST_DATE, LATEST_DATE).map(dt.date.isoformat),
        "payload": st.fixed_dictionaries(
            {"note": st.text(min_size=1, max_size=50)},
            optional={"percent_complete": st.integers(-5, 105)},
        ),
    },
    optional={
        "recorded_at": st.datetimes(
            dt.datetime(1989, 12, 30), dt.datetime(2101, 1, 2), timezones=st.timezones()
        ).map(dt.datetime.isoformat),
        "actor": st.text(max_size=300) | st.none(),
    },
)
JUNK = {
    "event_id": st.text(max_size=40) | JSON,
    "type": st.text(max_size=20) | st.sampled_from(["scheme.registered", "budget.changed"]),
    "scheme_id": st.text(max_size=70) | JSON,
    "occurred_on": st.dates().map(dt.date.isoformat) | st.text(max_size=12) | JSON,
    "recorded_at": st.text(max_size=30) | JSON,
    "actor": JSON,
    "payload": JSON | st.dictionaries(st.sampled_from(["note", "title", "budget"]), JSON),
    "extra": JSON,
}


@st.composite
def envelopes(draw: st.DrawFn) -> dict:
    """Mostly well-formed envelopes, some fields replaced by anything JSON can hold."""
    body = draw(VALID)
    for name in draw(st.sets(st.sampled_from(sorted(JUNK)), max_size=3)):
        body[name] = draw(JUNK[name])
    return body


@given(envelopes())
def test_any_envelope_decodes_or_is_refused_with_a_reason(body):
    text = json.dumps(body)
    try:
        event = decode_envelope(text)
    except DecodeError as error:
        assert error.reason
        return
    assert isinstance(event, Envelope)
    # What it stores reads back as the product reads history (text sent as only
    # whitespace, which version 1 of the contract accepts, is stored empty).
    assert decode_stored(event.model_dump_json()) == event


@given(st.one_of(st.binary(max_size=200), st.text(max_size=200)))
@example(b"[" * 5000)
@example('{"a": ' + "1" * 5000 + "}")
@example(b'{"event_id": "\xff"}')
def test_any_bytes_decode_or_are_refused_with_a_reason(raw):
    try:
        decode_envelope(raw)
    except DecodeError as error:
        assert error.reason
