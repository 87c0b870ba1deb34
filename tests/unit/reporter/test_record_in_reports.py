"""What a corrected record looks like in the reports: the committee pack's cover, full
titles, forecast reasons, transfers, overdue snags; workbooks that state their position's
date and keep the total out of the filter."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

from openpyxl import load_workbook

from services.reporter.model import BudgetBySource, ReportScope
from services.reporter.queries import committee_pack, programme_report, slippage_report
from services.reporter.render import Format, render
from tests.builders import event, registered
from tests.unit.reporter.pages import PackPage
from tests.unit.reporter.scenario import JUDGED_ON, POLICY, histories, scenario_events, states
from tests.unit.reporter.test_formats import FUNDING

LONG = (
    "Expansion of the Infant and Junior school to create 5nr additional classes and "
    "ancillary facilities."
)
CORRECTIONS = [
    event(
        "forecast.revised",
        "2024-06-01",
        "S-10",
        forecast_outturn="51000",
        reason="Badger licence conditions",
    ),
    event("progress.reported", "2024-07-20", "S-1", note="Awaiting the structural survey"),
    event(
        "snagging.raised",
        "2024-07-01",
        "S-2",
        snag_id="F1",
        description="Fire door closer missing",
        location="Block B",
        assignee="Stepnell",
        due_on="2024-07-15",
    ),
    event(
        "budget.transferred",
        "2024-07-22",
        "S-1",
        from_source="DfE",
        to_source="CCIP6",
        amount="10000",
        reason="Grant clawed back",
    ),
    registered(
        "S-20",
        on="2024-03-01",
        title="Expansion of the Infant and Junior school to create 5nr additional…",
        description=LONG,
    ),
]


def corrected_pack(scope: ReportScope | None = None):
    scope = scope or ReportScope.as_of(JUDGED_ON)
    events = [*scenario_events(), *CORRECTIONS]
    funding = BudgetBySource(scope, FUNDING.rows, FUNDING.total)
    return committee_pack(states(events), histories(events), funding, JUDGED_ON, POLICY)


def test_the_pack_opens_with_a_cover_naming_the_committee_the_date_rags_and_money():
    scope = ReportScope.as_of(JUDGED_ON, committee="Children and Young People Scrutiny")
    page = PackPage(str(render(corrected_pack(scope), Format.html)))
    cover = page.words.split("Budget by funding source")[0]
    assert (
        "Children and Young People Scrutiny Capital programme highlight pack 29 July 2024" in cover
    )
    assert "Position at 29 Jul 2024, as known on 29 Jul 2024" in cover
    assert "Budget £185,000 Forecast outturn £195,000 Variance £10,000" in cover
    assert "Schemes by RAG" in cover
    assert "Overall 1 1 3 5" in cover  # green, amber, red, schemes


def test_a_pack_of_everything_recorded_is_dated_the_day_it_was_printed():
    scope = ReportScope(printed_on=dt.date(2024, 8, 2))
    page = PackPage(str(render(corrected_pack(scope), Format.html)))
    assert "Position at 2 Aug 2024, as known on 2 Aug 2024" in page.words
    assert "2 August 2024" in page.words


def test_the_pack_prints_full_titles_not_the_shortened_register_title():
    page = PackPage(str(render(corrected_pack(), Format.html)))
    heading = "S-20 · Expansion of the Infant and Junior school to create 5nr additional "
    assert heading + "classes and ancillary facilities" in page.cards["S-20"].words
    assert "…" not in page.words


def test_a_forecast_reason_reaches_the_card_and_the_programme_report():
    card = PackPage(str(render(corrected_pack(), Format.html))).cards["S-10"]
    assert "£51,000 (£1,000 over budget) Badger licence conditions" in card.words
    events = [*scenario_events(), *CORRECTIONS]
    report = programme_report(states(events), ReportScope(), JUDGED_ON, POLICY)
    (s10,) = [c for c in report.concerns if c.scheme_id == "S-10"]
    assert s10.reasons[-1].endswith("over the budget of £50,000.00: Badger licence conditions")


def test_percent_complete_is_the_latest_progress_reports():
    card = PackPage(str(render(corrected_pack(), Format.html))).cards["S-1"]
    assert "Awaiting the structural survey" in card.words
    assert "% complete" not in card.words  # the 60% was the previous report's


def test_a_card_lists_snags_past_their_due_date_and_transfers_between_sources():
    cards = PackPage(str(render(corrected_pack(), Format.html))).cards
    assert (
        "Snags past their due date F1 Fire door closer missing (Block B): due 15 Jul 2024, "
        "Stepnell" in cards["S-2"].words
    )
    assert "DfE: -£10,000 on 22 Jul 2024 (to CCIP6: Grant clawed back)" in cards["S-1"].words
    assert "CCIP6: +£10,000 on 22 Jul 2024 (from DfE: Grant clawed back)" in cards["S-1"].words
    document = json.loads(str(render(corrected_pack(), Format.json)), parse_float=Decimal)
    s1 = next(s for s in document["schemes"] if s["scheme_id"] == "S-1")
    assert [line["source"] for line in s1["funding"]] == ["CCIP6", "DfE"]  # approvals only


def test_the_workbook_total_row_is_outside_the_filter_and_the_position_date_is_stated():
    workbook = load_workbook(io.BytesIO(bytes(render(FUNDING, Format.xlsx))))
    sheet = workbook["Budget by source"]
    assert sheet[sheet.max_row][0].value == "Total"
    assert sheet.auto_filter.ref == f"A1:G{sheet.max_row - 1}"
    about = {row[0].value: row[1].value for row in workbook["About"].iter_rows()}
    assert about["Position at"] == dt.datetime(2024, 7, 29)
    assert "29 Jul 2024" in sheet.oddHeader.right.text


def test_a_workbook_of_everything_recorded_states_the_day_it_was_printed():
    scope = ReportScope(printed_on=dt.date(2024, 8, 2))
    report = slippage_report(states(), histories(), scope, JUDGED_ON, POLICY)
    workbook = load_workbook(io.BytesIO(bytes(render(report, Format.xlsx))))
    about = {row[0].value: row[1].value for row in workbook["About"].iter_rows()}
    assert about["Position"].startswith("Position at 2 Aug 2024, as known on 2 Aug 2024")
    assert about["Position at"] == dt.datetime(2024, 8, 2)
    assert about["RAG judged on"] == dt.datetime(2024, 7, 29)
    sheet = workbook["Slippage"]
    assert sheet.auto_filter.ref == f"A1:M{sheet.max_row}"  # no total: every row filters
