"""The command line as scripts use it, on the embedded default (in-memory bus, SQLite)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capital.cli import app
from tests.builders import command_line, event, registered
from tests.conftest import SAMPLE_PROGRAMME

BOARD_KEYS = {
    "scheme_id",
    "title",
    "status",
    "baseline_completion",
    "anticipated_completion",
    "actual_completion",
    "slippage_days",
    "programme_rag",
    "budget_rag",
    "overall_rag",
    "budget",
    "forecast_outturn",
    "open_snags",
}


@pytest.fixture
def capital(sqlite_url, monkeypatch):
    return command_line(monkeypatch, sqlite_url, actor="pm.alice")


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_publish_reports_bad_lines_by_number_and_publishes_every_valid_line(capital, tmp_path):
    good = registered(scheme_id="CYPE-900")
    unknown = event("scheme.started", "2024-02-01", scheme_id="CYPE-404")
    started = event("scheme.started", "2024-02-01", scheme_id="CYPE-900")
    bad_type = json.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "type": "scheme.exploded",
            "scheme_id": "CYPE-900",
            "occurred_on": "2024-02-01",
        }
    )
    negative = registered(scheme_id="CYPE-901").model_dump(mode="json")
    negative["payload"]["budget"] = "-10"
    file = write_lines(
        tmp_path / "events.jsonl",
        good.model_dump_json(),
        "{oops",
        unknown.model_dump_json(),
        bad_type,
        json.dumps(negative),
        started.model_dump_json(),
        json.dumps(
            {
                **started.model_dump(mode="json"),
                "event_id": str(uuid.uuid4()),
                "occurred_on": "2024-02-31",
            }
        ),
    )
    result = capital("publish", str(file))
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert errors[0].startswith(f"{file}:2: not valid JSON")
    assert errors[1] == f"{file}:3: unknown scheme 'CYPE-404': no scheme.registered for it"
    assert errors[2].startswith(f"{file}:4: type: unknown event type 'scheme.exploded'")
    assert errors[3].startswith(f"{file}:5: payload.budget: Input should be greater than or equal")
    assert errors[4].startswith(f"{file}:7: occurred_on")
    assert "published 2 event(s); refused 5 line(s)" in result.stdout

    board = json.loads(capital("schemes", "--format", "json", "--today", "2024-03-01").stdout)
    assert [(r["scheme_id"], r["status"]) for r in board] == [("CYPE-900", "on_site")]
    assert set(board[0]) >= BOARD_KEYS


def test_publishing_the_same_file_twice_changes_nothing(capital):
    first = capital("publish", str(SAMPLE_PROGRAMME))
    again = capital("publish", str(SAMPLE_PROGRAMME))
    assert first.exit_code == again.exit_code == 0
    board = json.loads(capital("schemes", "--format", "json", "--today", "2024-07-29").stdout)
    cype_018 = next(r for r in board if r["scheme_id"] == "CYPE-018")
    assert cype_018["slippage_days"] == 70
    assert cype_018["budget"] == 107500
    history = json.loads(capital("scheme", "CYPE-018", "--format", "json").stdout)["history"]
    assert len(history) == 5


def test_publish_reads_stdin_and_attributes_events_to_the_user(capital):
    result = capital(
        "publish", "-", input=registered(scheme_id="CYPE-777", actor=None).model_dump_json() + "\n"
    )
    assert result.exit_code == 0, result.stderr
    history = json.loads(capital("scheme", "CYPE-777", "--format", "json").stdout)["history"]
    assert history[0]["actor"] == "pm.alice"


def test_impossible_events_are_refused_by_line_after_the_tracker_saw_them(capital, tmp_path):
    file = write_lines(
        tmp_path / "snags.jsonl",
        registered().model_dump_json(),
        event("snagging.cleared", "2024-02-01", snag_id="S9").model_dump_json(),
    )
    result = capital("publish", str(file))
    assert result.exit_code == 1
    assert f"{file}:2: snag 'S9' is not open on scheme S-1" in result.stderr
    letters = capital("dead-letters", "--format", "json")
    assert "not open" in letters.stdout


def test_log_a_slipped_completion_from_flags(capital):
    capital("publish", str(SAMPLE_PROGRAMME))
    result = capital(
        "log",
        "completion.revised",
        "--scheme",
        "CYPE-028",
        "--on",
        "2023-02-20",
        "--anticipated-completion",
        "2023-03-20",
        "--reason",
        "Late delivery",
    )
    assert result.exit_code == 0, result.stderr
    scheme = json.loads(
        capital("scheme", "CYPE-028", "--format", "json", "--today", "2023-02-21").stdout
    )
    assert scheme["scheme"]["slippage_days"] == 42
    assert scheme["scheme"]["programme_rag"] == "red"
    assert scheme["history"][-1]["actor"] == "pm.alice"


def test_log_names_the_flag_that_is_wrong(capital):
    capital("publish", str(SAMPLE_PROGRAMME))
    result = capital(
        "log", "completion.revised", "--scheme", "CYPE-028", "--anticipated-completion", "next week"
    )
    assert result.exit_code == 2
    assert "--anticipated-completion" in result.stderr
    assert "--reason: Field required" in result.stderr


def test_as_of_shows_the_board_as_it_stood(capital):
    capital("publish", str(SAMPLE_PROGRAMME))
    then = json.loads(
        capital(
            "schemes", "--format", "json", "--as-of", "2022-10-01", "--today", "2022-10-01"
        ).stdout
    )
    cype_018 = next(r for r in then if r["scheme_id"] == "CYPE-018")
    assert cype_018["anticipated_completion"] is None
    assert cype_018["programme_rag"] == "green"
    assert "CYPE-016" not in {r["scheme_id"] for r in then}


def test_csv_output_has_a_header_and_a_row_per_scheme(capital):
    capital("publish", str(SAMPLE_PROGRAMME))
    lines = capital("schemes", "--format", "csv").stdout.splitlines()
    assert lines[0].startswith("scheme_id,title,status")
    assert len(lines) == 1 + 7


def test_an_unknown_scheme_is_a_clear_error(capital):
    result = capital("scheme", "CYPE-999")
    assert result.exit_code == 2
    assert "unknown scheme 'CYPE-999'" in result.stderr


def test_a_bad_date_option_is_a_clear_error(capital):
    result = CliRunner().invoke(app, ["schemes", "--today", "31/02/2024"])
    assert result.exit_code == 2
    assert "--today" in result.output and "31/02/2024" in result.output
    # A date as people type it is one.
    typed = CliRunner().invoke(app, ["schemes", "--as-at", "31/03/2024", "--format", "json"])
    assert typed.exit_code == 0, typed.output


def test_a_past_board_is_judged_as_on_that_date_unless_told_otherwise(capital):
    capital("publish", str(SAMPLE_PROGRAMME))
    # CYPE-018's anticipated completion, 6 Jan 2023, had not passed on 1 Jan 2023.
    then = json.loads(capital("schemes", "--format", "json", "--as-of", "2023-01-01").stdout)
    cype_018 = next(r for r in then if r["scheme_id"] == "CYPE-018")
    assert (cype_018["overdue"], cype_018["slippage_days"]) == (False, 70)
    later = json.loads(
        capital(
            "schemes", "--format", "json", "--as-of", "2023-01-01", "--today", "2023-02-01"
        ).stdout
    )
    assert next(r for r in later if r["scheme_id"] == "CYPE-018")["overdue"] is True


def test_reusing_an_event_id_for_another_event_and_future_dates_are_refused(capital, tmp_path):
    capital("publish", str(SAMPLE_PROGRAMME))
    original = json.loads(SAMPLE_PROGRAMME.read_text().splitlines()[5])
    reused = {**original, "occurred_on": "2022-01-01"}
    future = event("scheme.completed", "2099-01-01", scheme_id="CYPE-018", actor=None)
    naive = {
        **event("progress.reported", "2024-01-01", scheme_id="CYPE-018", note="x").model_dump(
            mode="json"
        ),
        "recorded_at": "2024-01-01T10:00:00",
    }
    file = write_lines(
        tmp_path / "odd.jsonl", json.dumps(reused), future.model_dump_json(), json.dumps(naive)
    )
    result = capital("publish", str(file))
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert (
        errors[0] == f"{file}:1: event_id {original['event_id']} was already used for a "
        "different event"
    )
    assert errors[1].startswith(f"{file}:2: occurred_on 2099-01-01 is in the future")
    assert errors[2].startswith(f"{file}:3: recorded_at: Input should have timezone info")


def test_unusable_input_and_unreachable_services_get_one_line_not_a_traceback(capital, tmp_path):
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\xff\xfe not text\n")
    result = capital("publish", str(binary))
    assert result.exit_code == 1
    assert f"{binary}:1: not UTF-8 text" in result.stderr
    result = CliRunner().invoke(
        app, ["--database-url", "postgresql+psycopg://u:pw@127.0.0.1:1/x", "schemes"]
    )
    assert result.exit_code == 2
    assert result.output.startswith("database postgresql+psycopg://u:***@127.0.0.1:1/x:")
    assert "pw@" not in result.output
    result = capital("events", "schema", "--output", str(tmp_path / "missing" / "s.json"))
    assert result.exit_code == 2
    assert "No such file or directory" in result.stderr


def test_scheme_offers_only_the_formats_it_has(capital):
    capital("publish", str(SAMPLE_PROGRAMME))
    assert capital("scheme", "CYPE-018", "--format", "csv").exit_code == 2


def test_money_is_written_exactly(capital, tmp_path):
    big = registered(scheme_id="BIG-1", budget="1234567890123.10", actor=None)
    capital("publish", "-", input=big.model_dump_json() + "\n")
    assert '"budget": 1234567890123.10' in capital("schemes", "--format", "json").stdout
    assert ",1234567890123.10," in capital("schemes", "--format", "csv").stdout
