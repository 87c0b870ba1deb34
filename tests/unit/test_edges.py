"""Bad input at the edges: refused with a reason, never a crash, a frozen scheme or a
half-finished publish."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from capital.application.publishing import to_message
from capital.cli import app
from events import DecodeError, decode_envelope
from events.codec import decode_stored
from events.limits import LINE_MAX, MAX_NESTING, TEXT_MAX
from projection.tables import SchemeEvent
from projection.views import scheme_state
from services.tracker.handlers import Applied, Refused
from tests.builders import command_line, event, registered
from tests.unit.contract.validation import problems, validator_for


def envelope(payload: dict | None = None, **overrides: object) -> str:
    body = {
        "event_id": str(uuid.uuid4()),
        "type": "progress.reported",
        "scheme_id": "S-1",
        "occurred_on": "2024-07-01",
        "payload": payload if payload is not None else {"note": "Roof on"},
    }
    body.update(overrides)
    return json.dumps(body)


def refusal(text: str) -> str:
    with pytest.raises(DecodeError) as refused:
        decode_envelope(text)
    return refused.value.reason


@pytest.fixture
def capital(sqlite_url, monkeypatch):
    return command_line(monkeypatch, sqlite_url, actor="pm.alice", today="2024-07-29")


# --- the codec ------------------------------------------------------------------------


def test_deep_nesting_is_refused_before_parsing():
    assert refusal("[" * 5000 + "]" * 5000) == f"JSON nested more than {MAX_NESTING} levels deep"
    assert "nested" in refusal(
        envelope(
            {
                "note": "x",
                "extra": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
            }
        )
    )


def test_brackets_inside_text_are_not_nesting():
    event = decode_envelope(envelope({"note": "[" * 100 + '\\"{' * 50}))
    assert event.payload.note.startswith("[[[")


def test_a_huge_message_or_number_is_refused_with_a_reason():
    assert "larger than" in refusal(envelope({"note": "x" * 10_000_000}))
    assert refusal(envelope({"note": "x" * (TEXT_MAX + 1)})).startswith(
        f"payload.note: String should have at most {TEXT_MAX} characters"
    )
    assert "not valid JSON" in refusal('{"a": ' + "9" * 5000 + "}")


def test_titles_and_names_are_one_line_of_limited_length():
    registration = {"title": "x" * (LINE_MAX + 1), "budget": 1, "contractor": "Acme\nLtd"}
    reason = refusal(envelope(registration, type="scheme.registered"))
    assert f"payload.title: String should have at most {LINE_MAX} characters" in reason
    assert "payload.contractor: contains a line break or tab (U+000A)" in reason
    assert "actor: String should have at most" in refusal(envelope(actor="a" * 300))


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Roof\x00on", "a control character (U+0000) at position 5"),
        ("Roof\x1bon", "a control character (U+001B) at position 5"),
        (
            "invoice \u202egnp.exe",
            "a bidirectional override (U+202E RIGHT-TO-LEFT OVERRIDE) at position 9",
        ),
        ("a\u2066b", "a bidirectional override (U+2066 LEFT-TO-RIGHT ISOLATE) at position 2"),
    ],
)
def test_control_characters_and_bidi_overrides_are_refused_with_the_field_named(text, named):
    assert refusal(envelope({"note": text})) == f"payload.note: contains {named}"


def test_notes_and_reasons_may_run_over_lines():
    assert decode_envelope(envelope({"note": "Roof on.\n\tScaffold down."})).payload.note


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("occurred_on", "9999-12-31"),
        ("occurred_on", "0024-03-15"),
        ("anticipated_completion", "9999-12-31"),
        ("anticipated_completion", "1989-12-31"),
    ],
)
def test_dates_a_capital_scheme_cannot_have_are_refused_with_the_range(where, value):
    if where == "occurred_on":
        text = envelope(occurred_on=value)
    else:
        text = envelope({where: value, "reason": "x"}, type="completion.revised")
    reason = refusal(text)
    assert f"{value} is outside the dates a capital scheme can have" in reason
    assert "(1990-01-01 to 2100-12-31)" in reason


def test_the_edges_of_the_date_range_are_accepted():
    for value in ("1990-01-01", "2100-12-31"):
        body = {"anticipated_completion": value, "reason": "x"}
        assert decode_envelope(envelope(body, type="completion.revised"))


@pytest.mark.parametrize(
    "stamp", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2150-01-01T00:00:00Z"]
)
def test_a_recorded_at_whose_offset_cannot_be_represented_is_refused(stamp):
    reason = refusal(envelope(recorded_at=stamp))
    assert reason.startswith("recorded_at: ")
    assert "cannot be represented" in reason or "outside the dates" in reason


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"occurred_on": "1989-12-31"}, "occurred_on"),
        ({"occurred_on": "2101-01-01"}, "occurred_on"),
        ({"payload": {"note": "x" * (TEXT_MAX + 1)}}, "payload.note"),
        ({"payload": {"note": "ok \u202e reversed"}}, "payload.note"),
        ({"payload": {"note": "nul \x00 byte"}}, "payload.note"),
    ],
)
def test_a_standard_validator_refuses_what_the_limits_refuse(change, field):
    """Integrators validating with the published JSON Schema get the product's verdict."""
    body = json.loads(event("progress.reported", "2024-07-20", note="fine").model_dump_json())
    body.update(change)
    text = json.dumps(body)

    with pytest.raises(DecodeError):
        decode_envelope(text)
    found = problems(validator_for("envelope"), text)
    assert found and all(p.startswith(field) for p in found), found


# --- the tracker ----------------------------------------------------------------------


def test_the_tracker_refuses_a_future_recorded_at_itself(container):
    container.tracker.handle(to_message(registered()).value)
    typo = event("progress.reported", "2024-07-20", note="x")
    typo = typo.model_copy(update={"recorded_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)})
    outcome = container.tracker.handle(to_message(typo).value)
    assert isinstance(outcome, Refused)
    assert outcome.reason.startswith("recorded_at 2030-01-01T00:00:00+00:00 is in the future")


def test_a_recorded_at_within_the_clock_skew_is_accepted(container):
    container.tracker.handle(to_message(registered()).value)
    ahead = container.settings.local_now() + dt.timedelta(minutes=4)
    early = event("progress.reported", "2024-07-20", note="x")
    outcome = container.tracker.handle(
        to_message(early.model_copy(update={"recorded_at": ahead})).value
    )
    assert isinstance(outcome, Applied)


def test_with_the_date_fixed_any_time_on_that_date_is_believed(container):
    # A back-dated import fixes the date, not the hour: its noon stamps are not future.
    container.tracker.handle(to_message(registered()).value)
    london = ZoneInfo("Europe/London")
    late = event("progress.reported", "2024-07-29", note="late on the day")
    late = late.model_copy(update={"recorded_at": dt.datetime(2024, 7, 29, 23, 30, tzinfo=london)})
    assert isinstance(container.tracker.handle(to_message(late).value), Applied)
    tomorrow = event("progress.reported", "2024-07-29", note="tomorrow")
    tomorrow = tomorrow.model_copy(
        update={"recorded_at": dt.datetime(2024, 7, 30, 1, 0, tzinfo=london)}
    )
    assert isinstance(container.tracker.handle(to_message(tomorrow).value), Refused)


def test_a_scheme_stored_with_a_future_recorded_at_is_not_frozen(make_container, sqlite_url):
    # Written before future stamps were refused: a tracker whose clock was in 2030 took it.
    then = make_container(sqlite_url, today=dt.date(2030, 1, 1))
    then.tracker.handle(to_message(registered()).value)
    typo = event("progress.reported", "2024-07-20", recorded_on="2030-01-01", note="x")
    assert isinstance(then.tracker.handle(to_message(typo).value), Applied)

    now = make_container(sqlite_url, today=dt.date(2024, 7, 29))
    cancelled = event("scheme.cancelled", "2024-07-29", reason="Withdrawn by the admin")
    outcome = now.tracker.handle(to_message(cancelled).value)
    assert isinstance(outcome, Applied), outcome
    later = event("progress.reported", "2024-07-29", note="Site cleared")
    assert isinstance(now.tracker.handle(to_message(later).value), Applied)
    back_dated = event("progress.reported", "2024-07-01", note="old news")
    refused = now.tracker.handle(to_message(back_dated).value)
    assert isinstance(refused, Refused) and "history cannot be back-dated" in refused.reason
    with now.sessions() as session:
        assert scheme_state(session, "S-1").status.value == "cancelled"


# --- the command line -----------------------------------------------------------------


def publish_lines(capital, tmp_path, *lines: str):
    file = tmp_path / "events.jsonl"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return file, capital("publish", str(file))


def test_a_deeply_nested_line_is_refused_and_the_valid_lines_are_published(capital, tmp_path):
    file, result = publish_lines(
        capital,
        tmp_path,
        registered().model_dump_json(),
        "[" * 5000 + "]" * 5000,
        event("scheme.started", "2024-02-01").model_dump_json(),
    )
    assert result.exit_code == 1
    assert f"{file}:2: JSON nested more than {MAX_NESTING} levels deep" in result.stderr
    assert "published 2 event(s); refused 1 line(s)" in result.stdout


def test_an_unrepresentable_offset_is_refused_by_line_not_blamed_on_the_database(capital, tmp_path):
    odd = registered().model_dump(mode="json") | {"recorded_at": "9999-12-31T23:59:59-23:59"}
    file, result = publish_lines(
        capital, tmp_path, json.dumps(odd), registered("S-2").model_dump_json()
    )
    assert result.exit_code == 1
    assert f"{file}:1: recorded_at: 9999-12-31T23:59:59-23:59: its time-zone offset" in (
        result.stderr
    )
    assert "database" not in result.output
    assert "published 1 event(s)" in result.stdout


def test_a_future_recorded_at_is_refused_at_the_edge_and_freezes_nothing(capital, tmp_path):
    typo = event("progress.reported", "2024-07-20", note="x").model_dump(mode="json")
    typo["recorded_at"] = "2030-01-01T00:00:00+00:00"
    file, result = publish_lines(
        capital, tmp_path, registered().model_dump_json(), json.dumps(typo)
    )
    assert result.exit_code == 1
    assert f"{file}:2: recorded_at 2030-01-01T00:00:00+00:00 is in the future" in result.stderr
    result = capital("log", "scheme.cancelled", "--scheme", "S-1", "--reason", "Withdrawn")
    assert result.exit_code == 0, result.output


def test_a_completion_at_the_end_of_the_date_range_still_prints_the_pack(capital, tmp_path):
    capital("publish", "-", input=registered().model_dump_json() + "\n")
    result = capital(
        "log", "completion.revised", "--scheme", "S-1",
        "--anticipated-completion", "2100-12-31", "--reason", "Typed far out",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    far = capital(
        "log", "completion.revised", "--scheme", "S-1",
        "--anticipated-completion", "9999-12-31", "--reason", "x",
    )  # fmt: skip
    assert far.exit_code == 2
    assert "9999-12-31 is outside the dates a capital scheme can have" in far.stderr
    for fmt in ("html", "json"):
        output = tmp_path / f"pack.{fmt}"
        result = capital("report", "pack", "--format", fmt, "--output", str(output))
        assert result.exit_code == 0, result.output
        assert "S-1" in output.read_text(encoding="utf-8")


def test_history_stored_before_the_limits_stays_readable(container, tmp_path, monkeypatch):
    # Written before titles and dates were limited: straight into the store.
    container.tracker.handle(to_message(registered()).value)
    slipped = event(
        "completion.revised", "2024-03-01", anticipated_completion="2024-12-31", reason="late"
    )
    container.tracker.handle(to_message(slipped).value)
    with container.sessions() as session:
        rows = session.exec(select(SchemeEvent).order_by(SchemeEvent.seq)).all()
        first, second = (json.loads(row.envelope_json) for row in rows)
        first["payload"]["title"] = "T" * 5000
        second["payload"]["anticipated_completion"] = "9999-12-31"
        rows[0].envelope_json, rows[1].envelope_json = json.dumps(first), json.dumps(second)
        session.add_all(rows)
        session.commit()
    url = container.settings.database_url
    monkeypatch.setenv("CAPITAL_TODAY", "2024-07-29")
    for args in (
        ("scheme", "S-1", "--as-of", "2024-07-29"),
        ("schemes", "--as-of", "2024-07-29", "--format", "json"),
        ("report", "pack", "--as-of", "2024-07-29", "--output", str(tmp_path / "pack.html")),
        ("report", "budget-by-source", "--as-of", "2024-07-29"),
    ):
        result = CliRunner().invoke(app, ["--database-url", url, *args], catch_exceptions=False)
        assert result.exit_code == 0, (args, result.output)
    shown = CliRunner().invoke(app, ["--database-url", url, "scheme", "S-1", "--format", "json"])
    history = json.loads(shown.stdout)["history"]
    assert history[1]["payload"]["anticipated_completion"] == "9999-12-31"


@pytest.mark.parametrize("blank", [" ", "\r", "\n\t "])
def test_a_note_of_only_whitespace_is_stored_empty_and_its_history_stays_readable(blank):
    body = {
        "event_id": "e3e70682-c209-4cac-629f-6fbed82c07cd",
        "type": "progress.reported",
        "scheme_id": "S-1",
        "occurred_on": "2024-03-01",
        "payload": {"note": blank},
    }
    # Version 1 of the contract measures the text as sent; an empty one is refused.
    with pytest.raises(DecodeError, match="at least 1 character"):
        decode_envelope(json.dumps({**body, "payload": {"note": ""}}))
    event = decode_envelope(json.dumps(body))
    assert event.payload.note == ""
    # Once stored, it reads back: a scheme's history never becomes unreadable.
    assert decode_stored(event.model_dump_json()) == event
