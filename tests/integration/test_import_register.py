"""The real council register (41 schemes, July 2024 committee pack) imported through the
tracker into SQL, on SQLite and on PostgreSQL: the warnings it must give, the state and
RAG of a sample of schemes checked by hand, and idempotent re-import."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from capital.application.accounts import add_user
from capital.application.importing import ImportResult, RegisterDateError, import_register
from capital.cli.demo import register_path
from events import Rag, SchemeSnapshot
from programme.permissions import Role
from programme.position import Position
from projection.tables import SchemeEvent
from projection.views import scheme_snapshots, scheme_state
from services.importer import Kind, RegisterFileError, Severity
from tests.builders import operator_as
from tests.conftest import SHARED_DATA

PACK_DATE = dt.date(2024, 7, 29)
LATEST_REGISTER = dt.date(2024, 8, 5)
SHARED_REGISTER = SHARED_DATA / "cype-capital-register-2024.csv"
REGISTER = SHARED_REGISTER if SHARED_REGISTER.is_file() else register_path()


def run_import(container, path: Path = REGISTER, recorded_on: dt.date = PACK_DATE) -> ImportResult:
    return import_register(
        container,
        path,
        sheet=None,
        recorded_on=recorded_on,
        principal=operator_as("head.of.capital", container),
    )


def board(container, as_of: dt.date | None = None) -> dict[str, SchemeSnapshot]:
    with container.sessions() as session:
        shown = Position.as_of(as_of) if as_of else Position(PACK_DATE)
        snapshots = scheme_snapshots(session, shown, container.settings.rag)
    return {snapshot.scheme_id: snapshot for snapshot in snapshots}


def stored_events(container) -> int:
    with container.sessions() as session:
        return session.exec(select(func.count()).select_from(SchemeEvent)).one()


@pytest.fixture
def container(make_container, database_url: str):
    # The tracker's clock stands on the day of the latest register imported here: it
    # refuses events dated after its today.
    return make_container(database_url, today=LATEST_REGISTER)


def test_the_shipped_register_is_an_unchanged_copy_of_the_shared_one():
    if not SHARED_REGISTER.is_file():
        pytest.skip("no shared data folder beside the repository")
    assert register_path().read_bytes() == SHARED_REGISTER.read_bytes()


def test_the_council_register_imports_with_the_expected_warnings_and_no_errors(container):
    result = run_import(container)
    warnings = {
        (row.row, row.scheme_id, finding.kind)
        for row in result.plan.rows
        for finding in row.findings
        if finding.severity is Severity.warning
    }
    no_original_completion = ["001", "002", "003", "004", "006", "010", "011", "014", "017",
                              "029", "038"]  # fmt: skip
    expected = {
        (int(n) + 1, f"CYPE-{n}", Kind.baseline_from_anticipated) for n in no_original_completion
    }
    # Complete, and the pack gave neither an original nor an anticipated completion.
    expected |= {(int(n) + 1, f"CYPE-{n}", Kind.no_baseline) for n in ("005", "019", "031")}
    # "Salix and Children's Capital", split not given.
    expected |= {(16, "CYPE-015", Kind.funding_unallocated)}
    assert warnings == expected
    assert not result.plan.refused
    assert result.plan.counts(Severity.error) == {}
    assert result.plan.outcomes() == {"new": 41}
    assert result.events == 164 == stored_events(container)
    assert len(board(container)) == 41


def test_schemes_have_the_slippage_and_programme_rag_worked_out_by_hand(container):
    run_import(container)
    schemes = board(container)
    # Judged on 2024-07-29. Slippage = (actual completion, else anticipated) - baseline.
    # Programme RAG: green <= 0 days, amber 1-28, red > 28; red whenever not complete and
    # 2024-07-29 is past the anticipated completion (overdue).
    expected = {
        # baseline 2022-10-28, anticipated 2023-01-06: 3 (to 31 Oct) + 30 + 31 + 6 = 70 days.
        # Red twice over: 70 > 28, and overdue since 2023-01-06.
        "CYPE-018": (70, Rag.red, True),
        # baseline 2023-09-30, anticipated 2024-07-31: Oct 31 + Nov 30 + Dec 31 + Jan 31
        # + Feb 29 (2024 is a leap year) + Mar 31 + Apr 30 + May 31 + Jun 30 + Jul 31 = 305.
        # Not overdue (31 July is after 29 July): red on slippage alone.
        "CYPE-023": (305, Rag.red, False),
        # baseline 2023-02-06, anticipated 2023-03-03: 22 (to 28 Feb) + 3 = 25 days, amber
        # on slippage; but not complete and 2023-03-03 has passed, so overdue: red.
        "CYPE-028": (25, Rag.red, True),
        # Complete early: baseline 2024-06-30, actual completion 2024-05-31: -30 days, green.
        "CYPE-016": (-30, Rag.green, False),
        # No original completion: the anticipated 2024-09-30 is the baseline, 0 days; not
        # yet due on 2024-07-29: green.
        "CYPE-006": (0, Rag.green, False),
        # No original completion: the anticipated 2024-03-15 is the baseline, 0 days; but
        # not complete and past it: overdue, red.
        "CYPE-001": (0, Rag.red, True),
        # Complete (2024-05-13) with no original or anticipated date: no slippage, green.
        "CYPE-005": (None, Rag.green, False),
        # Anticipated 2022-07-08 is 23 days before the baseline 2022-07-31 (-23), but it
        # never completed: overdue, red.
        "CYPE-007": (-23, Rag.red, True),
    }
    found = {
        scheme_id: (schemes[scheme_id].slippage_days, schemes[scheme_id].programme_rag,
                    schemes[scheme_id].overdue)
        for scheme_id in expected
    }  # fmt: skip
    assert found == expected
    assert schemes["CYPE-016"].status.value == "complete"
    assert schemes["CYPE-006"].baseline_completion == dt.date(2024, 9, 30)
    assert schemes["CYPE-023"].budget == Decimal(36000)


def test_funding_lines_and_what_the_pack_did_not_split_reach_the_projection(container):
    run_import(container)
    with container.sessions() as session:
        children_home = scheme_state(session, "CYPE-002")
        windows = scheme_state(session, "CYPE-015")
    assert children_home.budget_by_source() == {
        "Policy Provision": Decimal(600000),
        "DfE": Decimal(500000),
    }
    assert {line.approved_on for line in children_home.funding} == {dt.date(2022, 2, 1)}
    assert windows.budget_by_source() == {
        "Salix": Decimal(0),
        "Children's Capital": Decimal(0),
        "Unallocated": Decimal(450000),
    }


def test_importing_the_register_again_stores_nothing_new(container):
    run_import(container)
    before = stored_events(container)
    again = run_import(container, recorded_on=dt.date(2024, 8, 1))
    assert again.plan.outcomes() == {"unchanged": 41}
    assert again.events == 0
    assert stored_events(container) == before


def later_register(tmp_path: Path, **cype_006: str) -> Path:
    """The shared register with CYPE-006's cells changed."""
    later = tmp_path / "register-august.csv"
    with REGISTER.open(encoding="utf-8-sig", newline="") as source:
        rows = list(csv.DictReader(source))
    for row in rows:
        if row["ref"] == "CYPE-006":
            row.update(cype_006)
    with later.open("w", encoding="utf-8", newline="") as target:
        writer = csv.DictWriter(target, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return later


def test_a_later_register_with_one_date_moved_adds_exactly_that_one_event(container, tmp_path):
    run_import(container)
    before = stored_events(container)
    later = later_register(tmp_path, anticipated_completion="2024-10-31")  # was 2024-09-30

    result = run_import(container, later, recorded_on=dt.date(2024, 8, 5))

    assert result.plan.outcomes() == {"unchanged": 40, "updated": 1}
    assert stored_events(container) == before + 1
    (moved,) = result.plan.numbered_events()
    assert moved[1].scheme_id == "CYPE-006"
    assert moved[1].payload.model_dump()["anticipated_completion"] == dt.date(2024, 10, 31)
    # CYPE-006 had no original completion, so its first anticipated date (2024-09-30) is
    # its baseline: moving to 2024-10-31 is a 31-day slip, more than 28: red.
    now = board(container)["CYPE-006"]
    assert (now.slippage_days, now.programme_rag) == (31, Rag.red)
    # As the July register stood, nothing had slipped.
    then = board(container, as_of=PACK_DATE)["CYPE-006"]
    assert (then.slippage_days, then.programme_rag) == (0, Rag.green)


def test_a_row_with_an_event_the_user_may_not_record_sends_nothing(container, tmp_path):
    """A project manager may record a new anticipated date but not a budget change: a
    register moving both for CYPE-006 has that row refused whole, and nothing stored."""
    run_import(container)
    add_user(container.sessions, operator_as("root", container), "root", [Role.admin])
    add_user(container.sessions, operator_as("root", container), "pm", [Role.project_manager])
    before = stored_events(container)
    later = later_register(
        tmp_path,
        anticipated_completion="2024-10-31",
        budget_gbp="800000",
        funding="Policy Provision:800000",
    )

    result = import_register(
        container,
        later,
        sheet=None,
        recorded_on=dt.date(2024, 8, 5),
        principal=operator_as("pm", container),
    )

    assert result.plan.outcomes() == {"unchanged": 40, "refused": 1}
    (refused,) = [row for row in result.plan.rows if row.refused]
    assert refused.scheme_id == "CYPE-006"
    assert [(f.kind, f.message) for f in refused.findings] == [
        (
            Kind.not_permitted,
            "pm (project_manager) may not record budget.changed: it needs one of admin, "
            "finance, head_of_capital",
        )
    ]
    assert result.events == 0
    assert stored_events(container) == before
    with container.sessions() as session:
        state = scheme_state(session, "CYPE-006")
    assert state is not None and state.anticipated_completion == dt.date(2024, 9, 30)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("", "empty.csv: the file has no rows"),
        ("Scheme,Cost,Builder\nA,1,B\n", "empty.csv: no column for the scheme reference"),
    ],
)
def test_a_file_that_cannot_be_used_at_all_is_a_register_file_error(
    container, tmp_path, content, says
):
    path = tmp_path / "empty.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RegisterFileError, match=says):
        run_import(container, path)
    assert stored_events(container) == 0


def test_a_register_dated_after_the_trackers_today_is_refused_before_reading(container):
    with pytest.raises(RegisterDateError, match=r"date 2024-08-06 is after today \(2024-08-05\)"):
        run_import(container, recorded_on=dt.date(2024, 8, 6))
    assert stored_events(container) == 0


def test_the_register_imported_on_its_date_alerts_at_once_for_the_news_in_it(
    make_container, database_url: str
):
    """Imported on 29 July 2024, the day of the pack: its anticipated dates are that day's
    news, so their alerts go out at once, each judged as at 29 July; what the register dates
    years back (registrations, starts, completions) raises nothing. The morning's sweep then
    finds the other overdue schemes."""
    container = make_container(database_url, today=PACK_DATE)
    run_import(container)

    rows = container.notifier.alerts()
    raised = {row.alert.scheme_id: row for row in rows}
    counts = Counter((row.alert.kind, row.alert.severity) for row in rows)
    assert counts == {("overdue", "critical"): 10, ("slippage", "critical"): 4,
                      ("slippage", "warning"): 1}  # fmt: skip
    # 25 days beyond its baseline: a warning, though 3 Mar 2023 is long gone (overdue).
    assert raised["CYPE-028"].alert.subject.startswith("[AMBER] CYPE-028 slipped 25 days")
    assert {row.delivery_status for row in rows} == {"none"}  # at once, to nobody subscribed
    assert {row.alert.raised_at.date() for row in rows} == {PACK_DATE}  # CAPITAL_TODAY's date

    swept = container.notifier.sweep.run(PACK_DATE)

    assert (len(swept.raised), swept.already_overdue, swept.released) == (19, 10, [])
