"""`capital import-register` and `capital demo` as a user runs them, on the embedded
default (in-memory bus, SQLite)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from capital.application import importing
from tests.builders import command_line, event
from tests.unit.importer.registers import PACK_HEADINGS, row


@pytest.fixture
def capital(sqlite_url, monkeypatch):
    return command_line(monkeypatch, sqlite_url, actor="head.of.capital")


def write_register(path: Path, *rows: dict) -> Path:
    lines = [",".join(PACK_HEADINGS.values())]
    lines += [",".join(f'"{r[field]}"' for field in PACK_HEADINGS) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def board(capital, *options: str) -> dict[str, dict]:
    result = capital("schemes", "--today", "2024-07-29", "--format", "json", *options)
    assert result.exit_code == 0, result.output
    return {scheme["scheme_id"]: scheme for scheme in json.loads(result.stdout)}


def test_refused_rows_are_named_by_spreadsheet_row_good_rows_imported_and_exit_is_1(
    capital, tmp_path
):
    register = write_register(
        tmp_path / "register.csv",
        row(ref="CYPE-001"),
        row(ref="CYPE-002", budget="lots"),
        row(ref="CYPE-003", original_completion=""),
    )
    result = capital("import-register", str(register), "--recorded-on", "2024-07-29")
    assert result.exit_code == 1
    assert "row   3  CYPE-002  refused" in result.stdout
    assert "error: Budget: 'lots' is not an amount of money" in result.stdout
    assert "warning: no Original Completion Date: the Anti. Completion Date" in result.stdout
    assert "3 rows: 2 new, 1 refused · 8 events published · 1 warning, 0 notes" in result.stdout
    assert set(board(capital)) == {"CYPE-001", "CYPE-003"}


def test_a_dry_run_reports_the_same_and_publishes_nothing(capital, tmp_path):
    register = write_register(tmp_path / "register.csv", row())
    result = capital("import-register", str(register), "--dry-run", "--recorded-on", "2024-07-29")
    assert result.exit_code == 0, result.output
    assert "(dry run: nothing published)" in result.stdout
    assert "1 row: 1 new, 0 refused · 4 events to publish" in result.stdout
    assert board(capital) == {}


def test_importing_the_same_register_again_changes_nothing(capital, tmp_path):
    register = write_register(tmp_path / "register.csv", row(ref="CYPE-001"), row())
    capital("import-register", str(register), "--recorded-on", "2024-07-29")
    again = capital("import-register", str(register), "--recorded-on", "2024-07-30")
    assert again.exit_code == 0
    assert "2 rows: 0 new, 2 unchanged, 0 refused · 0 events published" in again.stdout


def test_the_json_report_carries_every_row_its_events_and_findings(capital, tmp_path):
    register = write_register(
        tmp_path / "register.csv", row(original_completion=""), row(ref="X 1")
    )
    result = capital("import-register", str(register), "--format", "json", "--dry-run")
    report = json.loads(result.stdout)
    assert report["totals"] == {
        "rows": 2, "new": 1, "updated": 0, "unchanged": 0, "skipped": 0, "refused": 1,
        "events": 4, "warnings": 1, "notes": 0,
    }  # fmt: skip
    good, bad = report["rows"]
    assert [e["type"] for e in good["events"]][:2] == ["scheme.registered", "scheme.started"]
    assert good["findings"][0]["kind"] == "baseline_from_anticipated"
    assert bad == {
        "row": 3,
        "scheme_id": "X 1",  # as written, so the user can find it
        "outcome": "refused",
        "events": [],
        "findings": [
            {
                "severity": "error",
                "kind": "bad_reference",
                "message": "Ref 'X 1' is not usable: up to 64 letters, digits and . _ / - (no "
                "spaces), starting with a letter or digit",
            }
        ],
    }
    assert result.exit_code == 1


def test_recorded_on_lets_the_board_show_what_each_register_said(capital, tmp_path):
    july = write_register(tmp_path / "july.csv", row())
    august = write_register(tmp_path / "august.csv", row(anticipated_completion="10/02/2023"))
    capital("import-register", str(july), "--recorded-on", "2024-07-29")
    update = capital("import-register", str(august), "--recorded-on", "2024-08-30")
    assert "row   2  CYPE-018  updated    completion.revised" in update.stdout
    # CYPE-018: baseline 2022-10-28; July's anticipated 2023-01-06 is 70 days later,
    # August's 2023-02-10 is 105 days later.
    assert board(capital, "--as-of", "2024-07-29")["CYPE-018"]["slippage_days"] == 70
    assert board(capital)["CYPE-018"]["slippage_days"] == 105


def test_a_row_the_tracker_would_reject_is_refused_whole(capital, tmp_path):
    capital(
        "import-register",
        str(write_register(tmp_path / "v1.csv", row())),
        "--recorded-on",
        "2024-07-29",
    )
    cancelled = capital(
        "log",
        "scheme.cancelled",
        "--scheme",
        "CYPE-018",
        "--reason",
        "Withdrawn",
        "--on",
        "2024-07-30",
    )
    assert cancelled.exit_code == 0, cancelled.output
    later = write_register(
        tmp_path / "v2.csv", row(anticipated_completion="10/02/2023", progress_update="Resumed.")
    )
    result = capital("import-register", str(later))  # recorded today, after the cancellation
    assert result.exit_code == 1
    assert (
        "error: the tracker would refuse completion.revised: scheme CYPE-018 is cancelled"
        in result.stdout
    )
    history = json.loads(capital("scheme", "CYPE-018", "--format", "json").stdout)["history"]
    assert "Resumed." not in json.dumps(history)  # the progress note did not go alone


def history_types(capital, scheme_id: str = "CYPE-018") -> list[str]:
    shown = capital("scheme", scheme_id, "--format", "json")
    return [event["type"] for event in json.loads(shown.stdout)["history"]]


@pytest.fixture
def with_users(capital, tmp_path):
    """The July register imported by the administrator `root`; `pm` a project manager."""
    assert capital("--actor", "root", "users", "add", "root", "--role", "admin").exit_code == 0
    added = capital("--actor", "root", "users", "add", "pm", "--role", "project_manager")
    assert added.exit_code == 0, added.output
    july = write_register(tmp_path / "july.csv", row())
    assert capital("--actor", "root", "import-register", str(july), "--recorded-on",
                   "2024-07-29").exit_code == 0  # fmt: skip
    return capital


# A later register: CYPE-018's budget (a budget.changed) and anticipated date (a
# completion.revised) both moved. A project manager may record the second, not the first.
MONEY_AND_DATE = {"budget": "£120,000", "funding": "CCIP6:120000"}


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_row_with_an_event_the_user_may_not_record_is_refused_whole_before_sending(
    with_users, tmp_path, dry_run
):
    capital = with_users
    before = history_types(capital)
    august = write_register(
        tmp_path / "august.csv", row(anticipated_completion="10/02/2023", **MONEY_AND_DATE)
    )
    options = ["--dry-run"] if dry_run else []
    result = capital(
        "--actor", "pm", "import-register", str(august), "--recorded-on", "2024-08-30", *options
    )
    assert result.exit_code == 1, result.output
    assert "row   2  CYPE-018  refused" in result.stdout
    assert (
        "error: pm (project_manager) may not record budget.changed: it needs one of admin, "
        "finance, head_of_capital" in result.stdout
    )
    verb = "to publish" if dry_run else "published"
    assert f"1 row: 0 new, 1 refused · 0 events {verb}" in result.stdout
    assert history_types(capital) == before  # the completion.revised did not go alone
    report = json.loads(
        capital(
            "--actor", "pm", "import-register", str(august), "--recorded-on", "2024-08-30",
            "--format", "json",
        ).stdout
    )  # fmt: skip
    assert report["rows"][0]["findings"][0]["kind"] == "not_permitted"


def test_a_row_the_user_may_record_is_imported_and_counted(with_users, tmp_path):
    capital = with_users
    august = write_register(tmp_path / "august.csv", row(anticipated_completion="10/02/2023"))
    result = capital("--actor", "pm", "import-register", str(august), "--recorded-on",
                     "2024-08-30")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 row: 0 new, 1 updated, 0 refused · 1 event published" in result.stdout
    assert history_types(capital).count("completion.revised") == 2


def test_the_summary_leaves_out_events_the_tracker_refused_after_sending(
    capital, tmp_path, monkeypatch
):
    """Another writer cancels CYPE-018 between the check and the send: the tracker refuses
    its completion.revised; CYPE-002's is published and counted."""
    july = write_register(tmp_path / "july.csv", row(), row(ref="CYPE-002"))
    assert capital("import-register", str(july), "--recorded-on", "2024-07-29").exit_code == 0
    real_publish = importing.publish

    def cancelled_first(container, numbered, principal, wait_seconds=None, **options):
        cancel = event("scheme.cancelled", "2024-08-01", "CYPE-018", reason="Withdrawn")
        real_publish(container, [(1, cancel)], principal)
        return real_publish(container, numbered, principal, wait_seconds, **options)

    monkeypatch.setattr(importing, "publish", cancelled_first)
    august = write_register(
        tmp_path / "august.csv",
        row(anticipated_completion="10/02/2023"),
        row(ref="CYPE-002", anticipated_completion="10/02/2023"),
    )
    result = capital("import-register", str(august), "--recorded-on", "2024-08-30")
    assert result.exit_code == 1
    assert "row   2  CYPE-018  refused" in result.stdout
    assert "error: refused when sent: scheme CYPE-018 is cancelled" in result.stdout
    assert "row   3  CYPE-002  updated    completion.revised" in result.stdout
    assert "2 rows: 0 new, 1 updated, 1 refused · 1 event published" in result.stdout


def test_a_register_dated_after_today_is_refused(capital, tmp_path, monkeypatch):
    register = write_register(tmp_path / "register.csv", row())
    far = capital("import-register", str(register), "--recorded-on", "2099-12-31")
    assert far.exit_code == 2
    (line,) = far.stderr.splitlines()
    assert line.startswith("--recorded-on 2099-12-31 is after today (")
    assert line.endswith("): a register can only record what has happened by its date")
    monkeypatch.setenv("CAPITAL_TODAY", "2024-07-29")  # today, as the tracker's clock has it
    tomorrow = capital("import-register", str(register), "--recorded-on", "2024-07-30")
    assert tomorrow.exit_code == 2
    assert "--recorded-on 2024-07-30 is after today (2024-07-29)" in tomorrow.stderr
    assert board(capital) == {}
    today = capital("import-register", str(register), "--recorded-on", "2024-07-29")
    assert today.exit_code == 0, today.output


def test_a_file_that_cannot_be_read_exits_2_with_the_reason(capital, tmp_path):
    result = capital("import-register", str(tmp_path / "missing.xlsx"))
    assert result.exit_code == 2
    assert "no such file" in result.output


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda tmp: tmp / "missing.csv", "no such file: "),
        (lambda tmp: tmp, " is a directory: give the register file"),
        (lambda tmp: _write(tmp / "empty.csv", b""), "empty.csv: the file has no rows"),
        (lambda tmp: _write(tmp / "blank.csv", b"\n ,, \n"), "blank.csv: the file has no rows"),
        (
            lambda tmp: _write(tmp / "costs.csv", b"Ref,Scheme Description,Cost\nA-1,Roof,1\n"),
            "costs.csv: no column for the budget ('Budget') in the headings on row 1 "
            "(headings not recognised: 'Cost'): see docs/importing.md",
        ),
        (
            lambda tmp: _write(tmp / "huge.csv", b'Ref,Budget\nA,"' + b"x" * 200_000 + b'"\n'),
            "huge.csv is not a readable CSV file: field larger than field limit",
        ),
        (
            lambda tmp: _write(tmp / "register.xlsx", b"PK\x03\x04 not a workbook"),
            "register.xlsx is not a readable .xlsx workbook",
        ),
    ],
    ids=["missing", "directory", "empty", "blank", "no-budget-column", "huge-cell", "bad-xlsx"],
)
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_file_that_cannot_be_used_exits_2_with_one_line_and_nothing_else(
    capital, tmp_path, make, says, dry_run
):
    result = capital("import-register", str(make(tmp_path)), *(["--dry-run"] if dry_run else []))
    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert says in line


def test_a_windows_code_page_csv_and_a_txt_file_import_as_csv(capital, tmp_path):
    heading = "Ref,Scheme Description,Budget,Funding Source\n"
    cp1252 = _write(
        tmp_path / "excel.csv", (heading + "CYPE-100,Caf\xe9 refit,\xa3100,DfE\n").encode("cp1252")
    )
    text = tmp_path / "register.txt"
    text.write_text(heading + "CYPE-101,Roof,£200,DfE\n", encoding="utf-8")
    for path in (cp1252, text):
        result = capital("import-register", str(path), "--recorded-on", "2024-07-29")
        assert result.exit_code == 0, result.output
        assert "1 row: 1 new, 0 refused · 1 event published" in result.stdout
    schemes = board(capital)
    assert schemes["CYPE-100"]["title"] == "Café refit"
    assert set(schemes) == {"CYPE-100", "CYPE-101"}


def test_the_demo_imports_the_shipped_register_and_prints_the_board_in_seconds(capital):
    started = time.monotonic()
    result = capital("demo")
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert "41 rows: 41 new, 0 refused · 164 events published · 15 warnings" in result.stdout
    assert "11 × no original completion date: the anticipated date is the baseline" in (
        result.stdout
    )
    assert "Programme board, judged on 2024-07-29" in result.stdout
    assert elapsed < 20
    again = capital("demo")
    assert "41 rows: 0 new, 41 unchanged, 0 refused · 0 events published" in again.stdout


def test_the_register_seeds_the_funding_sources_and_refuses_other_spellings(capital, tmp_path):
    first = write_register(
        tmp_path / "first.csv",
        row(ref="CYPE-001", funding="DfE:99000"),
        row(ref="CYPE-002", funding="dfe:99000"),  # another spelling of an earlier row's
    )
    result = capital("import-register", str(first), "--recorded-on", "2024-07-29")
    assert result.exit_code == 1
    assert "row   3  CYPE-002  refused" in result.stdout
    assert "'dfe'" in result.stdout and "'DfE'" in result.stdout
    listed = json.loads(capital("funding-sources", "list", "--format", "json").stdout)
    assert [entry["name"] for entry in listed] == ["DfE"]

    later = write_register(
        tmp_path / "later.csv",
        row(ref="CYPE-003", funding="DFE:99000"),
        row(ref="CYPE-004", funding="Salix:99000"),
    )
    result = capital("import-register", str(later), "--recorded-on", "2024-07-29")
    assert "unknown funding source 'DFE': did you mean 'DfE'?" in result.stdout
    assert set(board(capital)) == {"CYPE-001", "CYPE-004"}
    listed = json.loads(capital("funding-sources", "list", "--format", "json").stdout)
    assert [entry["name"] for entry in listed] == ["DfE", "Salix"]
