"""The changes between two committees on the council's real register, on SQLite and on
PostgreSQL: imported on 29 July 2024, then site updates recorded in August; the changes
report shows them, agrees with the budget-by-source report (aggregated in SQL) at both
dates, and the pack printed with --since has the page a committee reads."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from capital.application import reporting
from capital.application.publishing import publish
from capital.bootstrap import Container
from events import Envelope, Rag, new_event
from programme.position import Position
from services.reporter.model import BudgetBySource, ChangesReport, ReportKind, SchemeChanges
from tests.builders import command_line, operator_as
from tests.integration.test_import_register import PACK_DATE, run_import

FIRST_UPDATES = dt.date(2024, 8, 5)
SECOND_UPDATES = dt.date(2024, 8, 12)
TODAY = dt.date(2024, 8, 20)


def update(
    event_type: str, scheme_id: str, on: dt.date, recorded_on: dt.date, **payload: Any
) -> Envelope:
    recorded_at = dt.datetime.combine(recorded_on, dt.time(10), dt.UTC)
    return new_event(
        event_type, scheme_id, on, payload, recorded_at=recorded_at, event_id=uuid.uuid4()
    )


def record(container: Container, person: str, events: list[Envelope]) -> None:
    result = publish(container, list(enumerate(events, 1)), operator_as(person, container))
    assert result.ok, result.errors


@pytest.fixture
def programme(make_container, database_url: str) -> Container:
    container = make_container(database_url, today=TODAY)
    run_import(container)
    record(container, "pm.alice", [
        update("completion.revised", "CYPE-018", FIRST_UPDATES, FIRST_UPDATES,
               anticipated_completion="2024-10-31", reason="Asbestos in the ceiling void"),
        update("snagging.raised", "CYPE-018", FIRST_UPDATES, FIRST_UPDATES,
               snag_id="SN-7", description="Fire door closer missing"),
        # Practical completion on 31 July, told to the tracker a week later.
        update("scheme.completed", "CYPE-001", dt.date(2024, 7, 31), FIRST_UPDATES),
        update("scheme.amended", "CYPE-002", FIRST_UPDATES, FIRST_UPDATES,
               public_sensitivity="high", reason="A children's home: not to be published"),
    ])  # fmt: skip
    record(container, "finance.bob", [
        update("budget.changed", "CYPE-018", SECOND_UPDATES, SECOND_UPDATES,
               funding_source="DfE", amount="50000", reason="Asbestos removal"),
        update("forecast.revised", "CYPE-018", SECOND_UPDATES, SECOND_UPDATES,
               forecast_outturn="160000", reason="Removal quoted higher"),
    ])  # fmt: skip
    return container


def changes(container: Container, since: dt.date, until: dt.date) -> ChangesReport:
    return reporting.changes(container, operator_as("finance.bob", container), since, until)


def scheme(report: ChangesReport, scheme_id: str) -> SchemeChanges:
    (found,) = [s for s in report.schemes if s.scheme_id == scheme_id]
    return found


def budget_by_source(container: Container, as_of: dt.date) -> BudgetBySource:
    built = reporting.report(
        container,
        operator_as("finance.bob", container),
        ReportKind.budget_by_source,
        Position.as_of(as_of),
    )
    assert isinstance(built, BudgetBySource)
    return built


def test_the_site_updates_since_the_import_are_the_changes(programme: Container) -> None:
    report = changes(programme, PACK_DATE, TODAY)

    assert {s.scheme_id for s in report.schemes if s.completion or s.milestones} == {
        "CYPE-001",
        "CYPE-018",
    }
    moved = scheme(report, "CYPE-018").completion
    assert moved is not None
    assert (moved.before, moved.after, moved.days) == (
        dt.date(2023, 1, 6),
        dt.date(2024, 10, 31),
        664,
    )
    (revision,) = moved.revisions
    assert revision.reason == "Asbestos in the ceiling void"
    assert revision.by == "pm.alice (recorded by operator:tests)"
    (completed,) = scheme(report, "CYPE-001").milestones
    assert (completed.what, completed.occurred_on) == ("Completed", dt.date(2024, 7, 31))
    assert [s.snag_id for s in scheme(report, "CYPE-018").snags_raised] == ["SN-7"]
    assert {c.name: c.change for c in report.budget_by_source} == {"DfE": Decimal(50000)}
    budget_rag = [c for c in scheme(report, "CYPE-018").rag if c.box == "budget"]
    assert [(c.before, c.after, c.after_reason) for c in budget_rag] == [
        (Rag.green, Rag.red, "forecast 7.4% over budget")
    ]


def test_the_totals_agree_with_budget_by_source_at_both_dates(programme: Container) -> None:
    report = changes(programme, PACK_DATE, TODAY)
    then, now = budget_by_source(programme, PACK_DATE), budget_by_source(programme, TODAY)

    assert report.budget_total.before == then.total.budget
    assert report.budget_total.after == now.total.budget
    assert report.forecast_total.before == then.total.forecast_outturn
    assert report.forecast_total.after == now.total.forecast_outturn
    for change in report.budget_by_source:
        before = {row.funding_source: row.budget for row in then.rows}.get(change.name, 0)
        after = {row.funding_source: row.budget for row in now.rows}.get(change.name, 0)
        assert (change.before, change.after) == (before, after)


def test_the_public_version_leaves_out_a_scheme_marked_sensitive(programme: Container) -> None:
    finance = operator_as("finance.bob", programme)
    (amended,) = scheme(changes(programme, PACK_DATE, TODAY), "CYPE-002").amendments
    assert amended.what == "public_sensitivity: low → high"

    public = reporting.changes(programme, finance, PACK_DATE, TODAY, public=True)
    assert "CYPE-002" not in {s.scheme_id for s in public.schemes}
    shown = reporting.report(
        programme, finance, ReportKind.budget_by_source, Position.as_of(TODAY), public=True
    )
    assert isinstance(shown, BudgetBySource)
    assert public.budget_total.after == shown.total.budget
    assert (
        "schemes of high public sensitivity are not shown"
        in reporting.rendered_changes(
            programme, finance, reporting.Format.html, PACK_DATE, TODAY, public=True
        ).content
    )


def test_a_later_period_leaves_out_what_was_recorded_before_it(programme: Container) -> None:
    report = changes(programme, FIRST_UPDATES, TODAY)

    cype_018 = scheme(report, "CYPE-018")
    assert cype_018.completion is None and cype_018.snags_raised == ()
    assert cype_018.budget.change == Decimal(50000)
    assert cype_018.forecast_reason is not None
    assert cype_018.forecast_reason.reason == "Removal quoted higher"
    assert "CYPE-001" not in {s.scheme_id for s in report.schemes if s.milestones}


def test_the_pack_since_the_last_committee_prints_the_changes_page(
    programme: Container,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    capital = command_line(monkeypatch, database_url, today=TODAY.isoformat())
    target = tmp_path / "pack.pdf"
    printed = capital("report", "pack", "--as-of", TODAY.isoformat(), "--since", "29/07/2024",
                      "--format", "pdf", "--output", str(target))  # fmt: skip
    assert printed.exit_code == 0, printed.output

    pages = [page.extract_text() for page in PdfReader(target).pages]
    (changes_page,) = [text for text in pages if "Changes since the last committee" in text]
    words = " ".join(changes_page.split())
    assert "1 completion date moved, 1 scheme completed" in words
    assert "Asbestos in the ceiling void" in words
    assert "+£50,000.00" in words

    table = capital("report", "changes", "--from", "2024-07-29", "--to", "2024-08-20")
    assert table.exit_code == 0
    assert "1 completion date moved" in " ".join(table.stdout.split())
    backwards = capital("report", "changes", "--from", "2024-08-20", "--to", "2024-07-29")
    assert backwards.exit_code == 2
    assert "--from 2024-08-20 is after --to 2024-07-29" in backwards.stderr
    not_a_date = capital("report", "changes", "--from", "31/02/2024")
    assert not_a_date.exit_code == 2 and "--from: '31/02/2024' is not a date" in not_a_date.stderr
