"""`capital log`: flags derived from the payload models, written the way people write."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from capital.cli import app, events_commands
from events import EventType
from events import envelope as envelope_module
from events import payloads as p
from events.forms import form_fields
from tests.builders import command_line, registered


@pytest.fixture
def capital(sqlite_url, monkeypatch):
    run = command_line(monkeypatch, sqlite_url, actor="pm.alice", today="2024-07-29")
    run("publish", "-", input=registered("CYPE-018", actor=None).model_dump_json() + "\n")
    return run


def scheme(capital, scheme_id: str) -> dict:
    result = capital("scheme", scheme_id, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_dates_and_money_are_taken_as_people_write_them(capital):
    result = capital(
        "log", "forecast.revised", "--scheme", "CYPE-018",
        "--forecast-outturn", "£4.25m", "--on", "11/04/2024",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = scheme(capital, "CYPE-018")
    assert shown["scheme"]["forecast_outturn"] == 4250000
    assert shown["history"][-1]["occurred_on"] == "2024-04-11"
    # A source new to the deployment joins its list first.
    assert capital("funding-sources", "add", "DfE").exit_code == 0
    result = capital(
        "log", "scheme.registered", "--scheme", "NEW-1", "--title", "New roof",
        "--budget", "£785k", "--funding", "CCIP6:£500k:01/04/2024", "--funding", "DfE:£285,000",
        "--baseline-completion", "31/03/2025",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    new = scheme(capital, "NEW-1")["scheme"]
    assert new["baseline_completion"] == "2025-03-31"
    assert [(f["source"], f["amount"], f["approved_on"]) for f in new["funding"]] == [
        ("CCIP6", 500000, "2024-04-01"),
        ("DfE", 285000, None),
    ]


def test_ambiguous_money_and_flags_the_type_does_not_take_are_refused_by_flag(capital):
    result = capital("log", "forecast.revised", "--scheme", "CYPE-018", "--forecast-outturn", "1,2")
    assert result.exit_code == 2
    assert "--forecast-outturn: '1,2' is ambiguous" in result.stderr
    result = capital("log", "forecast.revised", "--scheme", "CYPE-018", "--note", "x")
    assert result.exit_code == 2
    assert "--note: forecast.revised does not take it" in result.stderr
    assert "takes --forecast-outturn --reason" in result.stderr


def test_scheme_ids_are_matched_without_regard_to_case_with_a_suggestion(capital):
    result = capital("log", "progress.reported", "--scheme", "cype-018", "--note", "Roof on")
    assert result.exit_code == 0, result.output
    assert "for CYPE-018" in result.stdout
    assert scheme(capital, "cype-018")["history"][-1]["payload"]["note"] == "Roof on"
    result = capital("log", "progress.reported", "--scheme", "CYPE-019", "--note", "x")
    assert result.exit_code == 1
    assert "unknown scheme 'CYPE-019': no scheme.registered for it (did you mean CYPE-018?)" in (
        result.stderr
    )
    assert "did you mean CYPE-018?" in capital("scheme", "CYPE-01").stderr


def test_help_shows_the_fields_each_event_type_takes(capital):
    result = CliRunner().invoke(app, ["log", "--help"], env={"COLUMNS": "200"})
    assert "completion.revised: --anticipated-completion* --reason*" in result.stdout
    assert "rag.overridden: --which* --value* --reason*" in result.stdout
    for field in form_fields():
        assert "--" + field.name.replace("_", "-") in result.stdout


def test_an_event_type_added_to_the_contract_gets_its_flags(monkeypatch):
    class WindowsReplaced(p.Payload):
        window_count: int
        glazing_rating: str | None = None

    models = {**envelope_module.PAYLOAD_MODELS, EventType.scheme_started: WindowsReplaced}
    monkeypatch.setattr(envelope_module, "PAYLOAD_MODELS", models)
    monkeypatch.setattr(events_commands, "PAYLOAD_MODELS", models)
    monkeypatch.setattr("events.forms.PAYLOAD_MODELS", models)
    fresh = typer.Typer()
    events_commands.register(fresh)
    result = CliRunner().invoke(fresh, ["log", "--help"], env={"COLUMNS": "200"})
    assert "--window-count" in result.stdout and "--glazing-rating" in result.stdout
    assert "scheme.started: --window-count* --glazing-rating" in result.stdout
