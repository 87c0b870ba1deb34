"""Each report in each format, read back the way its reader would: CSV and JSON parsed,
the workbook opened with openpyxl cell by cell, the HTML pack parsed card by card."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import xml.etree.ElementTree as ElementTree
from dataclasses import replace
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from events import Rag
from services.reporter.model import BudgetBySource, ReportScope, SourceFigures
from services.reporter.queries import committee_pack, programme_report, slippage_report
from services.reporter.render import Format, render
from services.reporter.render.charts import budget_by_source_chart, completion_charts
from services.reporter.render.workbook import CURRENCY_FORMAT
from tests.unit.reporter.pages import PackPage, fill, fill_of
from tests.unit.reporter.scenario import JUDGED_ON, POLICY, histories, states

SVG = "{http://www.w3.org/2000/svg}"

AS_OF = dt.date(2024, 7, 29)


def figures(source: str, schemes: int, approved: str, changes: str, forecast: str) -> SourceFigures:
    budget = Decimal(approved) + Decimal(changes)
    return SourceFigures(
        source, schemes, Decimal(approved), Decimal(changes), budget, Decimal(forecast)
    )


FUNDING = BudgetBySource(
    ReportScope.as_of(AS_OF),
    rows=(
        figures("CCIP6", 2, "110000.00", "0.00", "116000.00"),
        figures("DfE", 1, "40000.00", "0.00", "44000.00"),
        figures("Salix & Partners <UK>", 1, "0.00", "5000.00", "8000.33"),
        figures("Unallocated", 1, "30000.00", "0.00", "27000.00"),
    ),
    total=figures("Total", 4, "180000.00", "5000.00", "195000.33"),
)


def pack():
    return committee_pack(states(), histories(), FUNDING, JUDGED_ON, POLICY)


class TestCsv:
    def test_has_snake_case_headers_plain_numbers_and_the_total_last(self) -> None:
        text = render(FUNDING, Format.csv)
        assert isinstance(text, str)
        rows = list(csv.DictReader(io.StringIO(text)))

        assert list(rows[0]) == [
            "funding_source",
            "schemes",
            "approved_budget",
            "budget_changes",
            "budget",
            "forecast_outturn",
            "variance",
        ]
        assert rows[0] == {
            "funding_source": "CCIP6",
            "schemes": "2",
            "approved_budget": "110000.00",
            "budget_changes": "0.00",
            "budget": "110000.00",
            "forecast_outturn": "116000.00",
            "variance": "6000.00",
        }
        assert rows[-1]["funding_source"] == "Total"
        assert rows[-1]["forecast_outturn"] == "195000.33"

    def test_writes_dates_as_iso_dates(self) -> None:
        report = slippage_report(states(), histories(), ReportScope(), JUDGED_ON, POLICY)
        rows = {
            row["scheme_id"]: row
            for row in csv.DictReader(io.StringIO(str(render(report, Format.csv))))
        }
        assert rows["S-1"]["anticipated_completion"] == "2024-09-10"
        assert rows["S-1"]["revised_by"] == "pm.alice; pm.bob"


class TestJson:
    def test_budget_by_source_carries_exact_money_and_a_total(self) -> None:
        document = json.loads(str(render(FUNDING, Format.json)), parse_float=Decimal)

        assert document["report"] == "budget_by_source"
        assert document["as_at"] == document["known_on"] == "2024-07-29"
        assert document["position"] == "Position at 29 Jul 2024, as known on 29 Jul 2024"
        salix = document["rows"][2]
        assert salix == {
            "funding_source": "Salix & Partners <UK>",
            "schemes": 1,
            "approved_budget": Decimal("0.00"),
            "budget_changes": Decimal("5000.00"),
            "budget": Decimal("5000.00"),
            "forecast_outturn": Decimal("8000.33"),
            "variance": Decimal("3000.33"),
        }
        assert document["total"]["variance"] == Decimal("10000.33")

    def test_pack_json_has_every_scheme_with_rag_values_and_iso_dates(self) -> None:
        document = json.loads(str(render(pack(), Format.json)), parse_float=Decimal)

        schemes = {s["scheme_id"]: s for s in document["schemes"]}
        assert list(schemes) == ["S-1", "S-2", "S-3", "S-10"]
        assert schemes["S-1"]["programme_rag"] == "red"
        assert schemes["S-1"]["baseline_completion"] == "2024-06-30"
        assert schemes["S-1"]["funding"][1] == {
            "source": "DfE",
            "amount": Decimal("40000"),
            "approved_on": "2023-12-01",
        }
        assert schemes["S-3"]["public_sensitivity"] == "high"
        assert document["judged_on"] == "2024-07-29"

    def test_programme_json_lists_red_and_amber_schemes_with_reasons(self) -> None:
        report = programme_report(states(), ReportScope(), JUDGED_ON, POLICY)
        document = json.loads(str(render(report, Format.json)))

        assert document["rag_totals"]["overall"] == {"green": 1, "amber": 1, "red": 2, "total": 4}
        assert [c["scheme_id"] for c in document["red_and_amber"]] == ["S-1", "S-3", "S-10"]
        assert document["red_and_amber"][0]["reasons"][0].startswith("Anticipated completion")

    def test_slippage_json_shows_who_revised_the_date_and_when(self) -> None:
        report = slippage_report(states(), histories(), ReportScope(), JUDGED_ON, POLICY)
        document = json.loads(str(render(report, Format.json)))

        s1 = next(row for row in document["rows"] if row["scheme_id"] == "S-1")
        assert (s1["revisions"], s1["revised_by"]) == (2, ["pm.alice", "pm.bob"])
        assert s1["revision_history"][0] == {
            "occurred_on": "2024-03-01",
            "recorded_on": "2024-03-01",
            "actor": "pm.alice",
            "previous": "2024-06-30",
            "revised_to": "2024-08-31",
            "reason": "Steel delivery late",
            "days_moved": 62,
        }


class TestWorkbook:
    def test_budget_by_source_reads_back_cell_by_cell(self) -> None:
        workbook = load_workbook(io.BytesIO(bytes(render(FUNDING, Format.xlsx))))
        sheet = workbook["Budget by source"]

        assert [cell.value for cell in sheet[1]] == [
            "Funding source",
            "Schemes",
            "Approved budget",
            "Budget changes",
            "Budget",
            "Forecast outturn",
            "Variance",
        ]
        assert sheet.freeze_panes == "A2"
        assert [cell.value for cell in sheet[2]] == ["CCIP6", 2, 110000, 0, 110000, 116000, 6000]
        for cell in sheet[2][2:]:
            assert isinstance(cell.value, int | float)
            assert cell.number_format == CURRENCY_FORMAT
        assert sheet["F4"].value == pytest.approx(8000.33)
        total = sheet[sheet.max_row]
        assert total[0].value == "Total"
        assert total[5].value == pytest.approx(195000.33)
        assert total[0].font.bold
        assert workbook["About"]["B2"].value.startswith("Position at 29 Jul 2024")

    def test_slippage_dates_are_dates_and_rag_cells_are_filled(self) -> None:
        report = slippage_report(states(), histories(), ReportScope(), JUDGED_ON, POLICY)
        sheet = load_workbook(io.BytesIO(bytes(render(report, Format.xlsx))))["Slippage"]
        headings = [cell.value for cell in sheet[1]]
        rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}

        s1 = rows["S-1"]
        anticipated = s1[headings.index("Anticipated completion")]
        assert isinstance(anticipated.value, dt.datetime)
        assert anticipated.value.date() == dt.date(2024, 9, 10)
        assert anticipated.is_date
        assert s1[headings.index("Days slipped")].value == 72
        rag = s1[headings.index("Programme RAG")]
        assert rag.value == "red"
        assert rag.fill.fgColor.rgb == "FF" + fill(Rag.red).lstrip("#").upper()
        assert sheet.freeze_panes == "A2"

    def test_programme_report_has_a_sheet_per_table(self) -> None:
        report = programme_report(states(), ReportScope(), JUDGED_ON, POLICY)
        workbook = load_workbook(io.BytesIO(bytes(render(report, Format.xlsx))))

        assert workbook.sheetnames == [
            "RAG totals",
            "By status",
            "By programme",
            "Red and amber",
            "About",
        ]
        concerns = workbook["Red and amber"]
        assert [concerns.cell(row, 1).value for row in range(2, 5)] == ["S-1", "S-3", "S-10"]


class TestHtmlPack:
    def test_has_a_card_for_every_scheme_with_four_coloured_rag_boxes(self) -> None:
        page = PackPage(str(render(pack(), Format.html)))

        assert list(page.cards) == ["S-1", "S-2", "S-3", "S-10"]
        expected = {
            "S-1": ("red", "red", "green", "red"),
            "S-2": ("green", "green", "green", "green"),
            "S-3": ("red", "green", "red", "red"),  # high public sensitivity shows red
            "S-10": ("green", "amber", "green", "amber"),
        }
        for scheme_id, rags in expected.items():
            boxes = page.cards[scheme_id].rag_boxes
            assert list(boxes) == ["programme", "budget", "public_sensitivity", "overall"]
            for (rag, style), wanted in zip(boxes.values(), rags, strict=True):
                assert rag == wanted
                assert fill_of(style) == fill(wanted)

    def test_a_card_prints_what_the_scrutiny_pack_printed(self) -> None:
        card = PackPage(str(render(pack(), Format.html))).cards["S-1"]

        for expected in (
            "Expansion to create <5> classrooms & a hall",
            "£100,000",
            "CCIP6: £60,000, approved Dec 2023",
            "DfE: £40,000, approved Dec 2023",
            "Original completion date 30 Jun 2024",
            "Actual start date 15 Jan 2024",
            "Anticipated completion date 10 Sep 2024",
            "Stepnell Ltd",
            "11 months",
            "Roof on",
            "60% complete",
            "Programme RAG",
            "Public Sensitivity",
            "RAG Status",
        ):
            assert expected in card.words

    def test_has_summary_charts_drawn_as_inline_svg(self) -> None:
        page = PackPage(str(render(pack(), Format.html)))

        assert page.charts == ["budget-by-source", "rag-distribution", "completion"]
        assert page.svg_count == 3
        assert "Position at 29 Jul 2024, as known on 29 Jul 2024" in page.words

    def test_pack_cannot_be_a_csv(self) -> None:
        with pytest.raises(ValueError, match="pack report cannot be rendered as csv"):
            render(pack(), Format.csv)


class TestCharts:
    def test_are_well_formed_svg_with_labels_escaped(self) -> None:
        svg = ElementTree.fromstring(budget_by_source_chart(FUNDING.rows))
        labels = [element.text for element in svg.iter(f"{SVG}text")]
        assert "Salix & Partners <UK>" in labels

    def test_a_completion_far_in_the_future_is_drawn_at_the_axis_edge_not_a_crash(self) -> None:
        # Stored before dates were limited; the axis must not need the year 10000.
        cards = [replace(card, anticipated_completion=dt.date.max) for card in pack().cards]
        (chart,) = completion_charts(cards, JUDGED_ON)
        years = [e.text for e in ElementTree.fromstring(chart).iter(f"{SVG}text")]
        assert str(JUDGED_ON.year + 10) in years
        assert str(JUDGED_ON.year + 11) not in years

    def test_split_the_completion_timeline_so_each_chart_fits_a_page(self) -> None:
        cards = pack().cards * 12  # 48 rows
        charts = completion_charts(cards, JUDGED_ON)
        assert len(charts) == 3
        for chart in charts:
            ElementTree.fromstring(chart)
