"""Correcting the record from the command line, on the embedded default: amendments and the
public pack, transfers, the deployment's funding sources, the repeat check, snags."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.builders import command_line, event
from tests.conftest import SAMPLE_PROGRAMME

HOME = "CYPE-002"  # Conversion of no. 59 & 61 Lutterworth Road into a children's home


@pytest.fixture
def capital(sqlite_url, monkeypatch):
    run = command_line(monkeypatch, sqlite_url, actor="head.of.capital")
    assert run("publish", str(SAMPLE_PROGRAMME)).exit_code == 0
    return run


def publish(capital, *events):
    return capital("publish", "-", input="".join(e.model_dump_json() + "\n" for e in events))


def pack_schemes(capital, *options: str) -> list[str]:
    result = capital("report", "pack", "--format", "json", *options)
    assert result.exit_code == 0, result.stderr
    return [card["scheme_id"] for card in json.loads(result.stdout)["schemes"]]


def budget_by_source(capital, *options: str) -> dict[str, dict]:
    result = capital("report", "budget-by-source", "--format", "json", *options)
    document = json.loads(result.stdout)
    return {row["funding_source"]: row for row in [*document["rows"], document["total"]]}


def test_the_public_pack_hides_a_scheme_amended_to_high_sensitivity(capital):
    assert HOME in pack_schemes(capital, "--public")
    public_before = budget_by_source(capital, "--public")
    result = capital(
        "log", "scheme.amended", "--scheme", HOME, "--public-sensitivity", "high",
        "--reason", "Children's home: the address must not be published",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert HOME not in pack_schemes(capital, "--public")
    assert HOME in pack_schemes(capital)
    public = budget_by_source(capital, "--public")
    assert public_before["Total"]["budget"] - public["Total"]["budget"] == 1_100_000
    history = capital("scheme", HOME).stdout
    assert "public sensitivity: low -> high" in " ".join(history.split())


def test_sensitivity_counts_from_the_day_the_amendment_occurred_even_if_recorded_later(capital):
    amended = event(
        "scheme.amended", "2024-07-01", HOME, recorded_on="2024-09-01",
        public_sensitivity="high", reason="Children's home",
    )  # fmt: skip
    assert publish(capital, amended).exit_code == 0
    # A public pack for the end of July, printed now, no longer shows the address...
    assert HOME not in pack_schemes(capital, "--public", "--as-of", "2024-07-29")
    # ...but one for a date before the amendment took effect does.
    assert HOME in pack_schemes(capital, "--public", "--as-of", "2024-06-30")


def test_a_transfer_moves_money_between_sources_and_the_total_is_unchanged(capital):
    before = budget_by_source(capital)
    transfer = event(
        "budget.transferred", "2024-07-20", HOME, from_source="DfE", to_source="Policy Provision",
        amount="200000", reason="Grant clawed back",
    )  # fmt: skip
    assert publish(capital, transfer).exit_code == 0
    after = budget_by_source(capital)
    assert after["Total"]["budget"] == before["Total"]["budget"]
    assert after["DfE"]["budget"] == before["DfE"]["budget"] - 200_000
    assert after["Policy Provision"]["budget"] == before["Policy Provision"]["budget"] + 200_000
    scheme = json.loads(capital("scheme", HOME, "--format", "json").stdout)["scheme"]
    assert scheme["budget"] == 1_100_000


def test_a_transfer_beyond_what_the_source_holds_is_refused(capital):
    transfer = event(
        "budget.transferred", "2024-07-20", HOME, from_source="DfE", to_source="CCIP6",
        amount="500000.01", reason="x",
    )  # fmt: skip
    result = publish(capital, transfer)
    assert result.exit_code == 1
    assert "would take it below zero" in result.stderr
    assert "below zero" in capital("dead-letters", "--format", "json").stdout


def test_another_spelling_of_a_funding_source_is_refused_with_a_suggestion(capital):
    result = capital(
        "log", "budget.changed", "--scheme", HOME, "--funding-source", "DFE", "--amount", "5000",
        "--reason", "Fire doors",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "unknown funding source 'DFE': did you mean 'DfE'?" in result.stderr
    assert "DFE" not in capital("funding-sources", "list").stdout


def test_a_new_funding_source_is_added_to_the_list_before_it_is_used(capital):
    salix = event(
        "budget.changed", "2024-07-20", HOME, funding_source="Salix Finance", amount="1000",
        reason="Heat pumps",
    )  # fmt: skip
    refused = publish(capital, salix)
    assert "not on the deployment's list of funding sources" in refused.stderr
    assert capital("funding-sources", "add", "Salix Finance").exit_code == 0
    assert capital("funding-sources", "add", "salix-finance").exit_code == 2
    assert publish(capital, salix).exit_code == 0


def test_renaming_a_source_amends_the_schemes_using_it_and_retires_the_old_name(capital):
    result = capital("funding-sources", "rename", "DfE", "DfE Capital Grant")
    assert result.exit_code == 0, result.stderr
    assert "schemes amended: CYPE-002" in result.stdout
    by_source = budget_by_source(capital)
    assert by_source["DfE Capital Grant"]["budget"] == 500_000
    assert by_source["DfE"]["budget"] == 0
    refused = capital(
        "log", "budget.changed", "--scheme", HOME, "--funding-source", "DfE", "--amount", "1",
        "--reason", "x",
    )  # fmt: skip
    assert "'DfE' was renamed 'DfE Capital Grant'" in refused.stderr
    history = " ".join(capital("scheme", HOME).stdout.split())
    assert "funding source: DfE -> DfE Capital Grant" in history


def test_the_same_change_twice_in_a_row_asks_for_confirmation(capital):
    change = ["log", "budget.changed", "--scheme", HOME, "--funding-source", "DfE",
              "--amount", "5000", "--reason", "Fire doors"]  # fmt: skip
    assert capital(*change).exit_code == 0
    twice = capital(*change)
    assert twice.exit_code == 1
    assert "recorded the same budget.changed for CYPE-002" in twice.stderr
    assert "--again" in twice.stderr
    assert capital(*change, "--again").exit_code == 0
    scheme = json.loads(capital("scheme", HOME, "--format", "json").stdout)["scheme"]
    assert Decimal(str(scheme["budget"])) == Decimal("1110000")


def test_a_different_user_or_a_different_change_is_not_a_repeat(capital, monkeypatch):
    change = ["log", "budget.changed", "--scheme", HOME, "--funding-source", "DfE",
              "--amount", "5000", "--reason", "Fire doors"]  # fmt: skip
    assert capital(*change).exit_code == 0
    assert capital(*change[:-1], "Fire stopping").exit_code == 0
    monkeypatch.setenv("CAPITAL_ACTOR", "finance.bob")
    assert capital(*change).exit_code == 0


def test_snags_are_listed_across_the_programme_overdue_first(capital):
    logged = {"recorded_on": "2024-07-29", "scheme_id": HOME}
    snags = [
        event("snagging.raised", "2024-07-01", **{**logged, "scheme_id": "CYPE-018"},
              snag_id="S1", description="Door closer", assignee="Stepnell",
              location="Block B", priority="high", due_on="2024-07-10"),
        event("snagging.raised", "2024-07-01", **logged, snag_id="S2", description="Paint",
              due_on="2024-09-01"),
        event("snagging.raised", "2024-07-01", **logged, snag_id="S3", description="Tap"),
        event("snagging.cleared", "2024-07-05", **logged, snag_id="S3"),
    ]  # fmt: skip
    assert publish(capital, *snags).exit_code == 0
    every = json.loads(capital("snags", "--today", "2024-07-29", "--format", "json").stdout)
    ours = [s for s in every if s["snag_id"] in ("S1", "S2", "S3")]
    assert [(s["scheme_id"], s["snag_id"], s["days_overdue"]) for s in ours] == [
        ("CYPE-018", "S1", 19),
        (HOME, "S2", 0),
        (HOME, "S3", 0),
    ]
    overdue = json.loads(
        capital("snags", "--overdue", "--today", "2024-07-29", "--format", "json").stdout
    )
    assert "S1" in [s["snag_id"] for s in overdue]
    assert {s["snag_id"] for s in overdue}.isdisjoint({"S2", "S3"})
    assert all(s["days_overdue"] > 0 for s in overdue)
    open_here = capital("snags", "--open", "--scheme", HOME, "--format", "json").stdout
    assert [s["snag_id"] for s in json.loads(open_here)] == ["S2"]
    scheme = json.loads(
        capital("scheme", "CYPE-018", "--today", "2024-07-29", "--format", "json").stdout
    )["scheme"]
    assert scheme["overdue_snags"] == 1
    assert scheme["open_snag_list"][0]["assignee"] == "Stepnell"
    assert capital("snags", "--scheme", "CYPE-404").exit_code == 2


def test_the_board_csv_says_which_rags_are_overridden(capital):
    override = event(
        "rag.overridden", "2024-07-20", HOME, which="budget", value="green", reason="Agreed"
    )
    assert publish(capital, override).exit_code == 0
    lines = capital("schemes", "--format", "csv").stdout.splitlines()
    header = lines[0].split(",")
    assert "overrides" in header
    row = next(line for line in lines if line.startswith(HOME))
    assert row.split(",")[header.index("overrides")] == "budget"


def test_renaming_a_spelling_onto_the_listed_name_merges_them(capital):
    # A register imported before the lists existed brought in a second spelling.
    assert capital("funding-sources", "add", "Policy provision").exit_code == 2
    refused = capital("funding-sources", "rename", "DfE", "policy PROVISION")
    assert "another spelling of 'Policy Provision'" in refused.stderr
    merged = capital("funding-sources", "rename", "DfE", "Policy Provision")
    assert merged.exit_code == 0, merged.stderr
    listed = capital("funding-sources", "list", "--retired", "--format", "json").stdout
    assert {"name": "DfE", "renamed_to": "Policy Provision"}.items() <= next(
        row for row in json.loads(listed) if row["name"] == "DfE"
    ).items()
    scheme = json.loads(capital("scheme", HOME, "--format", "json").stdout)["scheme"]
    assert {line["source"] for line in scheme["funding"]} == {"Policy Provision"}


def test_a_programme_spelt_differently_is_refused_with_a_suggestion(capital):
    refused = capital(
        "log", "scheme.amended", "--scheme", "CYPE-018", "--programme", "childrens homes",
        "--reason", "Moved to the children's homes programme",
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "unknown programme 'childrens homes': did you mean \"Children's homes\"?" in (
        refused.stderr
    )
    moved = capital(
        "log", "scheme.amended", "--scheme", "CYPE-018", "--programme", "Children's homes",
        "--reason", "Moved to the children's homes programme",
    )  # fmt: skip
    assert moved.exit_code == 0, moved.stderr
