"""The reports from a projection the real tracker wrote, on SQLite and on PostgreSQL.

Events go through the container's publisher (the in-memory bus runs the tracker), then
the reports are read back as finance and committees would get them.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import io
import itertools
import json
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select
from typer.testing import CliRunner, Result

from capital.application.publishing import to_message
from capital.bootstrap import Container
from capital.cli import app
from events import Envelope
from events import payloads as p
from programme.scheme import UNALLOCATED, SchemeState
from projection.tables import FundingMovement, Scheme, SchemeEvent, SchemeVersion
from projection.views import scheme_states
from services.reporter.model import BudgetBySource, ReportScope, SourceFigures
from services.reporter.queries import apportion, budget_by_source, report_histories
from services.reporter.render.workbook import CURRENCY_FORMAT
from tests.builders import day, event, registered
from tests.conftest import REPO
from tests.unit.reporter.pages import PackPage, fill, fill_of

TODAY = day("2024-07-29")
MoneyRow = tuple[
    str, int, str, str, str, str
]  # source, schemes, approved, changes, budget, forecast


def hand_checked_events() -> list[Envelope]:
    """Five schemes whose figures are worked out by hand in the tests below."""
    return [
        # A: two sources, 10% overspend shared pro rata 60:40.
        registered(
            "A",
            on="2024-01-10",
            budget="100000",
            funding=[
                {"source": "CCIP6", "amount": "60000", "approved_on": "2023-12-01"},
                {"source": "DfE", "amount": "40000", "approved_on": "2023-12-01"},
            ],
            programme="SEND",
        ),
        event("forecast.revised", "2024-02-15", "A", forecast_outturn="110000"),
        # B: a budget change names CCIP7, so B's overspend lands on CCIP7.
        registered("B", on="2024-01-15", budget="50000", programme="Expansion"),
        event(
            "budget.changed",
            "2024-03-01",
            "B",
            funding_source="CCIP7",
            amount="5000",
            reason="Asbestos removal",
        ),
        event("forecast.revised", "2024-04-10", "B", forecast_outturn="58000"),
        # C: the split between sources is unknown; an underspend; high public sensitivity.
        registered("C", on="2024-01-20", budget="30000", funding=[], public_sensitivity="high"),
        event("forecast.revised", "2024-02-20", "C", forecast_outturn="27000"),
        # D: one source, 5% overspend.
        registered(
            "D",
            on="2024-02-01",
            budget="20000",
            funding=[{"source": "High Needs Grant", "amount": "20000"}],
        ),
        event("forecast.revised", "2024-02-10", "D", forecast_outturn="21000"),
        # E: thirds: £100 over budget is £33.33, £33.33 and £33.34.
        registered(
            "E",
            on="2024-02-05",
            budget="90000",
            funding=[
                {"source": "Salix", "amount": "30000"},
                {"source": "CCIP7", "amount": "30000"},
                {"source": "School Funded", "amount": "30000"},
            ],
        ),
        event("forecast.revised", "2024-05-01", "E", forecast_outturn="90100"),
    ]


def publish(container: Container, events: Iterable[Envelope]) -> None:
    container.publisher.send([to_message(e) for e in events])


@pytest.fixture
def programme(make_container: Callable[..., Container], database_url: str) -> Container:
    container = make_container(database_url, today=TODAY)
    publish(container, hand_checked_events())
    return container


def report(container: Container, **scope: Any) -> BudgetBySource:
    with container.sessions() as session:
        day_of_committee = scope.pop("as_of", None)
        chosen = ReportScope.as_of(day_of_committee, **scope) if day_of_committee else None
        return budget_by_source(session, chosen or ReportScope(**scope))


def money_rows(result: BudgetBySource) -> list[MoneyRow]:
    return [_money_row(row) for row in (*result.rows, result.total)]


def _money_row(row: SourceFigures) -> MoneyRow:
    return (
        row.funding_source,
        row.schemes,
        f"{row.approved_budget:.2f}",
        f"{row.budget_changes:.2f}",
        f"{row.budget:.2f}",
        f"{row.forecast_outturn:.2f}",
    )


class TestBudgetBySource:
    def test_matches_the_hand_checked_totals(self, programme: Container) -> None:
        assert money_rows(report(programme)) == [
            ("CCIP6", 2, "110000.00", "0.00", "110000.00", "116000.00"),
            ("CCIP7", 2, "30000.00", "5000.00", "35000.00", "38033.34"),
            ("DfE", 1, "40000.00", "0.00", "40000.00", "44000.00"),
            ("High Needs Grant", 1, "20000.00", "0.00", "20000.00", "21000.00"),
            ("Salix", 1, "30000.00", "0.00", "30000.00", "30033.33"),
            ("School Funded", 1, "30000.00", "0.00", "30000.00", "30033.33"),
            (UNALLOCATED, 1, "30000.00", "0.00", "30000.00", "27000.00"),
            ("Total", 5, "290000.00", "5000.00", "295000.00", "306100.00"),
        ]

    def test_total_row_reconciles_to_the_sum_of_the_schemes(self, programme: Container) -> None:
        result = report(programme)
        with programme.sessions() as session:
            states = scheme_states(session)
        assert result.total.budget == sum(s.budget for s in states)
        assert result.total.forecast_outturn == sum(s.effective_forecast for s in states)
        assert result.total.variance == Decimal("11100.00")
        for column in ("approved_budget", "budget_changes", "budget", "forecast_outturn"):
            assert sum(getattr(row, column) for row in result.rows) == getattr(result.total, column)

    def test_as_of_before_the_budget_change_shows_what_was_known_then(
        self, programme: Container
    ) -> None:
        assert money_rows(report(programme, as_of=day("2024-02-29"))) == [
            ("CCIP6", 2, "110000.00", "0.00", "110000.00", "116000.00"),
            ("CCIP7", 1, "30000.00", "0.00", "30000.00", "30000.00"),
            ("DfE", 1, "40000.00", "0.00", "40000.00", "44000.00"),
            ("High Needs Grant", 1, "20000.00", "0.00", "20000.00", "21000.00"),
            ("Salix", 1, "30000.00", "0.00", "30000.00", "30000.00"),
            ("School Funded", 1, "30000.00", "0.00", "30000.00", "30000.00"),
            (UNALLOCATED, 1, "30000.00", "0.00", "30000.00", "27000.00"),
            ("Total", 5, "290000.00", "0.00", "290000.00", "298000.00"),
        ]

    def test_as_of_the_day_of_the_change_includes_it(self, programme: Container) -> None:
        ccip7 = next(
            r
            for r in report(programme, as_of=day("2024-03-01")).rows
            if r.funding_source == "CCIP7"
        )
        # B's forecast is not revised yet: it follows the budget, so no variance.
        assert _money_row(ccip7) == ("CCIP7", 2, "30000.00", "5000.00", "35000.00", "35000.00")

    def test_as_of_before_any_registration_is_empty_but_still_has_a_total(
        self, programme: Container
    ) -> None:
        result = report(programme, as_of=day("2023-12-31"))
        assert result.rows == ()
        assert _money_row(result.total) == ("Total", 0, "0.00", "0.00", "0.00", "0.00")

    def test_public_version_leaves_out_high_sensitivity_schemes(self, programme: Container) -> None:
        result = report(programme, public=True)
        assert UNALLOCATED not in [row.funding_source for row in result.rows]
        assert (result.total.schemes, result.total.budget) == (4, Decimal("265000.00"))

    def test_an_event_recorded_later_is_not_known_before_it_was_recorded(
        self, make_container: Callable[..., Container], database_url: str
    ) -> None:
        # The budget change and the £125,000 forecast happened in March but were recorded
        # in June: at the end of 1 April only the progress report and the £101,000
        # forecast were known, though the others had happened by then.
        container = make_container(database_url, today=TODAY)
        publish(
            container,
            [
                registered("F", on="2024-01-05", budget="100000", funding=[]),
                event("progress.reported", "2024-03-01", "F", note="On site"),
                event("forecast.revised", "2024-03-02", "F", forecast_outturn="101000"),
                event(
                    "budget.changed",
                    "2024-03-10",
                    "F",
                    recorded_on="2024-06-01",
                    funding_source="CCIP7",
                    amount="20000",
                    reason="Extra scope",
                ),
                event(
                    "forecast.revised",
                    "2024-03-12",
                    "F",
                    recorded_on="2024-06-02",
                    forecast_outturn="125000",
                ),
            ],
        )
        assert money_rows(report(container, as_of=day("2024-04-01"))) == [
            (UNALLOCATED, 1, "100000.00", "0.00", "100000.00", "101000.00"),
            ("Total", 1, "100000.00", "0.00", "100000.00", "101000.00"),
        ]
        # Now both are known; the change names CCIP7, so the whole £5,000 overspend is
        # CCIP7's.
        assert money_rows(report(container)) == [
            ("CCIP7", 1, "0.00", "20000.00", "20000.00", "25000.00"),
            (UNALLOCATED, 1, "100000.00", "0.00", "100000.00", "100000.00"),
            ("Total", 1, "100000.00", "20000.00", "120000.00", "125000.00"),
        ]

    def test_funding_lines_above_the_budget_show_as_negative_unallocated(
        self, make_container: Callable[..., Container], database_url: str
    ) -> None:
        container = make_container(database_url, today=TODAY)
        publish(
            container,
            [registered("G", budget="100", funding=[{"source": "Salix", "amount": "150"}])],
        )
        assert money_rows(report(container)) == [
            ("Salix", 1, "150.00", "0.00", "150.00", "150.00"),
            (UNALLOCATED, 1, "-50.00", "0.00", "-50.00", "-50.00"),
            ("Total", 1, "100.00", "0.00", "100.00", "100.00"),
        ]


# --- the SQL aggregation against the fold, on generated histories ---------------------------


def load_bench() -> ModuleType:
    """bench/budget_by_source.py is a script, not a package: load it by path."""
    path = REPO / "bench" / "budget_by_source.py"
    spec = importlib.util.spec_from_file_location("bench_budget_by_source", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def reference_rows(
    states: list[SchemeState], histories: dict[str, list[Envelope]]
) -> list[MoneyRow]:
    """Budget by source worked out from folded scheme states with exact fractions: the
    rules of docs/reports.md written out plainly, to check the SQL against."""
    schemes: dict[str, set[str]] = defaultdict(set)
    approved: dict[str, Decimal] = defaultdict(Decimal)
    changed: dict[str, Decimal] = defaultdict(Decimal)
    shares: dict[str, Fraction] = defaultdict(Fraction)
    for state in states:
        changes = [
            e.payload
            for e in histories.get(state.scheme_id, [])
            if isinstance(e.payload, p.BudgetChanged)
        ]
        registration = state.funding[: len(state.funding) - len(changes)]
        lines = [(line.source, line.amount, Decimal(0)) for line in registration]
        lines += [(change.funding_source, Decimal(0), change.amount) for change in changes]
        residual = state.original_budget - sum((line.amount for line in registration), Decimal(0))
        if residual:
            lines.append((UNALLOCATED, residual, Decimal(0)))
        variance = Fraction(state.effective_forecast - state.budget)
        for source, approved_amount, change in lines:
            schemes[source].add(state.scheme_id)
            approved[source] += approved_amount
            changed[source] += change
            if not changes and state.budget:
                shares[source] += (
                    variance * Fraction(approved_amount + change) / Fraction(state.budget)
                )
        if changes:
            shares[changes[-1].funding_source] += variance
        elif not state.budget and variance:
            schemes[UNALLOCATED].add(state.scheme_id)
            shares[UNALLOCATED] += variance
    total_variance = sum((Fraction(s.effective_forecast - s.budget) for s in states), Fraction(0))
    pence = apportion(
        {source: _decimal(share * 100) for source, share in shares.items()},
        total=int(total_variance * 100),
    )
    rows = [
        (
            source,
            len(schemes[source]),
            f"{approved[source]:.2f}",
            f"{changed[source]:.2f}",
            f"{approved[source] + changed[source]:.2f}",
            f"{approved[source] + changed[source] + Decimal(pence.get(source, 0)) / 100:.2f}",
        )
        for source in sorted(schemes, key=lambda name: (name == UNALLOCATED, name.casefold()))
    ]
    budget = sum((s.budget for s in states), Decimal(0))
    forecast = sum((s.effective_forecast for s in states), Decimal(0))
    registered_total = sum((s.original_budget for s in states), Decimal(0))
    rows.append(
        (
            "Total",
            len(states),
            f"{registered_total:.2f}",
            f"{budget - registered_total:.2f}",
            f"{budget:.2f}",
            f"{forecast:.2f}",
        )
    )
    return rows


def _decimal(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.0001"))


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_bench()


def test_sql_aggregation_agrees_with_the_fold_on_generated_histories(
    make_container: Callable[..., Container], database_url: str, bench: ModuleType
) -> None:
    container = make_container(database_url, today=TODAY)
    publish(container, [applied.event for applied in bench.generate(25, 500, seed=7)])

    dates = (None, day("2020-06-30"), day("2021-12-31"), day("2023-03-31"))
    for as_at, known_on in itertools.product(dates, dates):
        scope = ReportScope(as_at=as_at, known_on=known_on)
        with container.sessions() as session:
            expected = reference_rows(
                scheme_states(session, scope.position(TODAY)), report_histories(session, scope)
            )
            actual = money_rows(budget_by_source(session, scope))
        assert actual == expected, f"as at {as_at}, as known on {known_on}"


def test_the_benchmark_writes_the_rows_the_tracker_writes(
    make_container: Callable[..., Container], database_url: str, bench: ModuleType, tmp_path: Path
) -> None:
    # The bench's histories run up to 900 days past its last registration; the tracker
    # refuses anything recorded after its today, so both are judged after the last event.
    after_the_bench = bench.LAST_REGISTRATION + dt.timedelta(days=1000)
    tracked = make_container(database_url, today=after_the_bench)
    publish(tracked, [applied.event for applied in bench.generate(8, 160, seed=11)])
    bulk = make_container(f"sqlite:///{tmp_path / 'bench.db'}", today=after_the_bench)
    bench.write_data_set(bulk.engine, 8, 160, seed=11)

    ignored = {"id", "updated_at", "recorded_at", "state_change_json"}
    for model in (SchemeVersion, FundingMovement, SchemeEvent, Scheme):
        assert _rows(tracked, model, ignored) == _rows(bulk, model, ignored), model.__name__
    assert money_rows(report(tracked)) == money_rows(report(bulk))


def _rows(container: Container, model: Any, ignored: set[str]) -> list[dict[str, Any]]:
    table = model.__table__
    columns = [c for c in table.columns if c.name not in ignored]
    with container.engine.connect() as connection:
        rows = connection.execute(select(*columns)).mappings().all()
    return sorted((dict(row) for row in rows), key=lambda row: json.dumps(row, default=str))


# --- the command line -------------------------------------------------------------------------

SAMPLE = REPO / "capital" / "data" / "sample-programme.jsonl"
SAMPLE_SCHEMES = [
    "CYPE-002",
    "CYPE-003",
    "CYPE-007",
    "CYPE-016",
    "CYPE-018",
    "CYPE-023",
    "CYPE-028",
]


@pytest.fixture
def capital(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Callable[..., Result]]:
    """`capital ...` against a database, the way a user runs it."""

    def on(database_url: str) -> Callable[..., Result]:
        monkeypatch.setenv("CAPITAL_DATABASE_URL", database_url)
        monkeypatch.setenv("CAPITAL_ACTOR", "head.of.capital")
        monkeypatch.delenv("CAPITAL_TODAY", raising=False)
        runner = CliRunner()

        def run(*args: str) -> Result:
            return runner.invoke(app, list(args), catch_exceptions=False)

        return run

    return on


@pytest.fixture
def sample(capital: Callable[..., Callable[..., Result]], sqlite_url: str) -> Callable[..., Result]:
    run = capital(sqlite_url)
    assert run("publish", str(SAMPLE)).exit_code == 0
    return run


class TestReportCommand:
    def test_budget_by_source_as_csv_reconciles(self, sample: Callable[..., Result]) -> None:
        result = sample("report", "budget-by-source", "--format", "csv")
        assert result.exit_code == 0, result.output
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        total = rows[-1]
        assert total["funding_source"] == "Total"
        assert sum(Decimal(r["budget"]) for r in rows[:-1]) == Decimal(total["budget"])
        assert sum(Decimal(r["forecast_outturn"]) for r in rows[:-1]) == Decimal(
            total["forecast_outturn"]
        )
        assert total == {
            "funding_source": "Total",
            "schemes": "7",
            "approved_budget": "6226000.00",
            "budget_changes": "8500.00",
            "budget": "6234500.00",
            "forecast_outturn": "6279500.00",
            "variance": "45000.00",
        }

    def test_budget_by_source_as_xlsx_reads_back_as_numbers_and_currency(
        self, sample: Callable[..., Result], tmp_path: Path
    ) -> None:
        target = tmp_path / "budget.xlsx"
        result = sample("report", "budget-by-source", "--format", "xlsx", "--output", str(target))
        assert result.exit_code == 0, result.output
        sheet = load_workbook(target)["Budget by source"]
        assert sheet.freeze_panes == "A2"
        dfe = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "DfE")
        assert [cell.value for cell in dfe] == ["DfE", 1, 500000, 0, 500000, 520454.55, 20454.55]
        assert all(cell.number_format == CURRENCY_FORMAT for cell in dfe[2:])

    def test_binary_formats_need_an_output_file(self, sample: Callable[..., Result]) -> None:
        for args in (("budget-by-source", "--format", "xlsx"), ("pack", "--format", "pdf")):
            result = sample("report", *args)
            assert result.exit_code == 2
            assert "binary format: give --output FILE" in result.stderr

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])  # written as text, and as bytes
    def test_an_output_that_cannot_be_written_fails_with_one_line_naming_it(
        self, sample: Callable[..., Result], tmp_path: Path, fmt: str
    ) -> None:
        cases = {
            tmp_path / "nowhere" / f"budget.{fmt}": "No such file or directory",
            tmp_path: "Is a directory",
        }
        for target, reason in cases.items():
            result = sample("report", "budget-by-source", "--format", fmt, "--output", str(target))
            assert result.exit_code == 2
            assert result.stderr.splitlines() == [f"cannot write the report to {target}: {reason}"]

    def test_refuses_a_format_a_report_does_not_come_in(
        self, sample: Callable[..., Result]
    ) -> None:
        result = sample("report", "pack", "--format", "csv")
        assert result.exit_code == 2
        assert "the pack report comes as html, pdf, json, not csv" in result.stderr

    def test_programme_and_slippage_as_json(self, sample: Callable[..., Result]) -> None:
        programme = json.loads(
            sample("report", "programme", "--today", "2024-07-29", "--format", "json").stdout
        )
        assert programme["schemes"] == 7
        assert programme["rag_totals"]["overall"] == {"green": 1, "amber": 0, "red": 6, "total": 7}
        slippage = json.loads(
            sample("report", "slippage", "--as-of", "2024-07-29", "--format", "json").stdout
        )
        worst = slippage["rows"][0]
        assert (worst["scheme_id"], worst["days_late"]) == ("CYPE-007", 729)
        cype_002 = next(r for r in slippage["rows"] if r["scheme_id"] == "CYPE-002")
        assert (cype_002["revisions"], cype_002["revised_by"]) == (2, ["estates.pm"])

    def test_pack_html_has_a_card_per_scheme_with_rag_colours(
        self, sample: Callable[..., Result]
    ) -> None:
        result = sample("report", "pack", "--as-of", "2024-07-29", "--format", "html")
        assert result.exit_code == 0, result.output
        page = PackPage(result.stdout)
        assert sorted(page.cards) == SAMPLE_SCHEMES
        for card in page.cards.values():
            assert len(card.rag_boxes) == 4
            for rag, style in card.rag_boxes.values():
                assert fill_of(style) == fill(rag)
        assert page.cards["CYPE-002"].rag_boxes["budget"][0] == "amber"
        assert page.cards["CYPE-016"].rag_boxes["overall"][0] == "green"

    def test_public_pack_leaves_out_high_sensitivity_schemes(
        self, sample: Callable[..., Result]
    ) -> None:
        page = PackPage(sample("report", "pack", "--public", "--format", "html").stdout)
        assert "CYPE-003" not in page.cards  # the one scheme marked high
        assert len(page.cards) == 6
        assert "£4,675,000" not in page.words

    def test_pack_pdf_has_summary_pages_and_a_page_per_card(
        self, sample: Callable[..., Result], tmp_path: Path
    ) -> None:
        target = tmp_path / "pack.pdf"
        result = sample(
            "report", "pack", "--as-of", "2024-07-29", "--format", "pdf", "-o", str(target)
        )
        assert result.exit_code == 0, result.output
        pdf = PdfReader(target)
        cards = len(SAMPLE_SCHEMES)
        assert cards + 3 <= len(pdf.pages) <= 2 * cards + 6
        text = " ".join(page.extract_text() for page in pdf.pages)
        for scheme_id in SAMPLE_SCHEMES:
            assert scheme_id in text
        assert "Capital programme highlight pack" in text


def test_a_past_pack_prints_again_the_same_after_later_events(
    capital: Callable[..., Callable[..., Result]], database_url: str, tmp_path: Path
) -> None:
    run = capital(database_url)
    assert run("publish", str(SAMPLE)).exit_code == 0
    before = run("report", "pack", "--as-of", "2024-07-29", "--format", "html").stdout
    later = tmp_path / "later.jsonl"
    later.write_text(
        "\n".join(
            e.model_dump_json()
            for e in [
                event("scheme.completed", "2024-08-09", "CYPE-023", actor="estates.pm"),
                event("forecast.revised", "2024-08-12", "CYPE-016", forecast_outturn="95000"),
                event(
                    "budget.changed",
                    "2024-08-20",
                    "CYPE-028",
                    funding_source="CCIP7",
                    amount="12000",
                    reason="Drainage",
                ),
            ]
        ),
        encoding="utf-8",
    )
    assert run("publish", str(later)).exit_code == 0

    again = run("report", "pack", "--as-of", "2024-07-29", "--format", "html").stdout
    now = run("report", "pack", "--today", "2024-08-31", "--format", "html").stdout
    assert again == before
    assert now != before
    assert "Drainage" in now
