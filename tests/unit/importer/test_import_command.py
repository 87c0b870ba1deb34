"""`capital import-register` and `capital demo` as a user runs them, on the embedded
default (in-memory bus, SQLite)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capital.cli import app
from tests.unit.importer.registers import PACK_HEADINGS, row


@pytest.fixture
def capital(sqlite_url, monkeypatch):
    monkeypatch.setenv("CAPITAL_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("CAPITAL_ACTOR", "head.of.capital")
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


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


def test_a_file_that_cannot_be_read_exits_2_with_the_reason(capital, tmp_path):
    result = capital("import-register", str(tmp_path / "missing.xlsx"))
    assert result.exit_code == 2
    assert "no such file" in result.output


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
