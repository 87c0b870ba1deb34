"""Positions on the real register (imported on 29 July 2024), on SQLite and PostgreSQL: the
year-end position finance asks for months later, a slip recorded late, and the committee
pack printed before and after it was known."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from capital.application import positions, reporting, schemes
from capital.application.errors import InvalidInput
from capital.application.publishing import publish
from programme.position import Position
from services.reporter.model import BudgetBySource, CommitteePack, ReportKind
from tests.builders import event, operator_as
from tests.integration.test_import_register import PACK_DATE, run_import

YEAR_END = dt.date(2024, 3, 31)
LATER = dt.date(2024, 8, 5)


@pytest.fixture
def container(make_container, database_url: str):
    container = make_container(database_url, today=LATER)
    run_import(container, recorded_on=PACK_DATE)
    return container


def budget(container, shown: Position) -> BudgetBySource:
    built = reporting.report(
        container, operator_as("finance", container), ReportKind.budget_by_source, shown
    )
    assert isinstance(built, BudgetBySource)
    return built


def test_finance_gets_the_year_end_position_from_a_register_imported_months_later(container):
    year_end = budget(container, positions.position(container, as_at=YEAR_END))
    # 38 of the 41 schemes had been approved (registered) by 31 March 2024.
    assert year_end.total.schemes == 38
    assert year_end.total.budget == Decimal("21434500.00")
    assert year_end.scope.describe() == "Position at 31 Mar 2024, as known on 5 Aug 2024"
    # What the system itself held at the year end: nothing had been recorded yet.
    as_of = budget(container, positions.position(container, as_of=YEAR_END))
    assert as_of.total.schemes == 0
    everything = budget(container, positions.position(container))
    assert everything.total.schemes == 41


def test_a_slip_recorded_late_belongs_to_the_day_it_happened_not_to_the_pack_printed_before(
    container,
):
    pm = operator_as("pm.tester", container)
    before = schemes.board(container, pm, Position.as_of(PACK_DATE)).rows
    was = next(row for row in before if row["scheme_id"] == "CYPE-006")
    assert was["expected_completion"] == dt.date(2024, 9, 30)

    # On 2 August the project manager records that on 15 July the contractor went into
    # administration: completion moves to the end of January.
    slip = event(
        "completion.revised",
        "2024-07-15",
        scheme_id="CYPE-006",
        recorded_on="2024-08-02",
        anticipated_completion="2025-01-31",
        reason="contractor in administration",
    )
    outcome = publish(container, [(1, slip)], operator_as("head.of.capital", container))
    assert outcome.ok, outcome.errors

    def cype_006(shown: Position) -> dict:
        rows = schemes.board(container, pm, shown).rows
        return next(row for row in rows if row["scheme_id"] == "CYPE-006")

    # As the programme stood on 20 July, by everything known now: slipped.
    assert cype_006(positions.position(container, as_at=dt.date(2024, 7, 20)))[
        "expected_completion"
    ] == dt.date(2025, 1, 31)
    # What the committee saw on 29 July (as at and as known on that day): not yet known.
    assert cype_006(Position.as_of(PACK_DATE))["expected_completion"] == dt.date(2024, 9, 30)

    def pack(shown: Position) -> CommitteePack:
        built = reporting.report(container, pm, ReportKind.pack, shown)
        assert isinstance(built, CommitteePack)
        return built

    def card_completion(built: CommitteePack) -> dt.date | None:
        card = next(card for card in built.cards if card.scheme_id == "CYPE-006")
        return card.anticipated_completion

    printed_then = pack(Position.as_of(PACK_DATE))
    reprinted = pack(positions.position(container, as_at=PACK_DATE, known_on=LATER))
    assert card_completion(printed_then) == dt.date(2024, 9, 30)
    assert card_completion(reprinted) == dt.date(2025, 1, 31)
    assert printed_then.scope.describe() == "Position at 29 Jul 2024, as known on 29 Jul 2024"
    assert reprinted.scope.describe() == "Position at 29 Jul 2024, as known on 5 Aug 2024"


def test_as_of_goes_alone(container):
    with pytest.raises(InvalidInput, match="give as_of alone"):
        positions.position(container, as_at=YEAR_END, as_of=YEAR_END)
