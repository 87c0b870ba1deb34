"""Tables that fit the terminal, the board's filters, and alerts picked and acknowledged
several at a time."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from capital.cli import app
from tests.conftest import SAMPLE_PROGRAMME

LONG_TITLE = "Two storey extension and internal refurbishment to create 8 additional SEND classes"


@pytest.fixture
def capital(sqlite_url, monkeypatch):
    monkeypatch.setenv("CAPITAL_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("CAPITAL_ACTOR", "head.of.capital")
    monkeypatch.setenv("CAPITAL_TODAY", "2024-07-29")
    runner = CliRunner()

    def run(*args: str, columns: int = 80):
        return runner.invoke(app, list(args), env={"COLUMNS": str(columns)})

    assert run("publish", str(SAMPLE_PROGRAMME)).exit_code == 0
    return run


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_tables_fit_the_terminal_and_say_what_they_hide(capital, columns):
    result = capital("schemes", columns=columns)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns
    assert "CYPE-018" in result.stdout and "…" in result.stdout
    if columns < 120:
        assert f"not shown, to fit {columns} columns" in result.stdout


def test_a_wide_terminal_shows_every_column(capital):
    result = capital("schemes", columns=250)
    assert "not shown" not in result.stdout
    assert "forecast" in result.stdout and "overall" in result.stdout


def test_scripts_get_every_character(capital):
    rows = json.loads(capital("schemes", "--format", "json", columns=40).stdout)
    assert LONG_TITLE in {row["title"] for row in rows}
    assert "…" not in capital("schemes", "--format", "csv", columns=40).stdout


def board(capital, *filters: str) -> set[str]:
    result = capital("schemes", "--format", "json", *filters)
    assert result.exit_code == 0, result.output
    return {row["scheme_id"] for row in json.loads(result.stdout)}


def test_the_board_filters_by_rag_status_programme_source_and_manager(capital):
    everything = board(capital)
    red = board(capital, "--rag", "red")
    complete = board(capital, "--status", "complete")
    assert red and complete and red < everything and complete < everything
    rows = json.loads(capital("schemes", "--format", "json").stdout)
    assert red == {row["scheme_id"] for row in rows if row["overall_rag"] == "red"}
    assert complete == {row["scheme_id"] for row in rows if row["status"] == "complete"}
    assert board(capital, "--rag", "red", "--status", "complete") == red & complete
    ccip6 = board(capital, "--funding-source", "ccip6")
    assert "CYPE-018" in ccip6 and ccip6 < everything
    assert board(capital, "--programme", "No such programme") == set()
    assert board(capital, "--project-manager", "nobody") == set()
    assert capital("schemes", "--rag", "purple").exit_code == 2


def alerts(capital, *options: str) -> list[dict]:
    result = capital("alerts", "--format", "json", *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_alerts_are_acknowledged_several_at_a_time_or_by_filter(capital):
    waiting = alerts(capital, "--unacknowledged")
    assert len(waiting) >= 3
    first, second = waiting[0]["alert_id"], waiting[1]["alert_id"]
    result = capital("alerts", "ack", first[:8], second)
    assert result.exit_code == 0, result.output
    assert {a["alert_id"] for a in alerts(capital, "--unacknowledged")} == {
        a["alert_id"] for a in waiting[2:]
    }

    result = capital("alerts", "ack", waiting[2]["alert_id"], "no-such-alert")
    assert result.exit_code == 2 and "no alert with id 'no-such-alert'" in result.stderr
    assert len(alerts(capital, "--unacknowledged")) == len(waiting) - 2  # nothing half-done

    scheme = waiting[2]["scheme_id"]
    result = capital("alerts", "ack", "--scheme", scheme.lower())
    assert result.exit_code == 0, result.output
    assert scheme not in {a["scheme_id"] for a in alerts(capital, "--unacknowledged")}

    assert capital("alerts", "ack").exit_code == 2
    capital("alerts", "ack", "--all-unacknowledged")
    assert alerts(capital, "--unacknowledged") == []
    assert len(alerts(capital)) == len(waiting)
