"""A small programme, hand-checked, as folded states and histories for the pure reports.

On 29 July 2024:
- S-1 (SEND): £100,000 from CCIP6 £60,000 and DfE £40,000; baseline 30 Jun 2024, revised
  by pm.alice to 31 Aug 2024 (62 days: red), then by pm.bob to 10 Sep 2024 (72 days);
  forecast £110,000 (10% over: red budget).
- S-2 (SEND): £50,000 CCIP6, completed 20 May 2024 against a baseline of 31 May: green.
- S-3 (Expansion): £30,000, split unknown, high public sensitivity; baseline and
  anticipated completion 31 Mar 2024, not complete: overdue by 120 days (red), slippage 0.
- S-10 (no programme): registered without a baseline; its first anticipated date becomes
  the baseline (not a revision); forecast £51,000 on £50,000 (2% over: amber).
"""

from __future__ import annotations

from collections import defaultdict

from events import Envelope
from programme.rag import RagPolicy
from programme.scheme import SchemeState, fold
from tests.builders import day, event, registered

JUDGED_ON = day("2024-07-29")
POLICY = RagPolicy()


def scenario_events() -> list[Envelope]:
    return [
        registered(
            "S-1",
            on="2024-01-01",
            budget="100000",
            baseline_completion="2024-06-30",
            funding=[
                {"source": "CCIP6", "amount": "60000", "approved_on": "2023-12-01"},
                {"source": "DfE", "amount": "40000", "approved_on": "2023-12-01"},
            ],
            programme="SEND",
            contractor="Stepnell Ltd",
            contract_length="11 months",
            description="Expansion to create <5> classrooms & a hall",
        ),
        event("scheme.started", "2024-01-15", "S-1"),
        event(
            "completion.revised",
            "2024-03-01",
            "S-1",
            actor="pm.alice",
            anticipated_completion="2024-08-31",
            reason="Steel delivery late",
        ),
        event(
            "completion.revised",
            "2024-04-01",
            "S-1",
            actor="pm.bob",
            anticipated_completion="2024-09-10",
            reason="Roof redesign",
        ),
        event("forecast.revised", "2024-04-02", "S-1", forecast_outturn="110000"),
        event("progress.reported", "2024-07-15", "S-1", note="Roof on", percent_complete=60),
        registered(
            "S-2",
            on="2024-02-01",
            budget="50000",
            baseline_completion="2024-05-31",
            programme="SEND",
        ),
        event("scheme.started", "2024-02-10", "S-2"),
        event("scheme.completed", "2024-05-20", "S-2"),
        registered(
            "S-3",
            on="2024-01-10",
            budget="30000",
            baseline_completion="2024-03-31",
            funding=[],
            programme="Expansion",
            public_sensitivity="high",
        ),
        event(
            "completion.revised",
            "2024-01-20",
            "S-3",
            anticipated_completion="2024-03-31",
            reason="Contract programme agreed",
        ),
        registered("S-10", on="2024-02-01", budget="50000", baseline_completion=None),
        event(
            "completion.revised",
            "2024-02-15",
            "S-10",
            anticipated_completion="2024-10-31",
            reason="Contract programme agreed",
        ),
        event("forecast.revised", "2024-05-01", "S-10", forecast_outturn="51000"),
    ]


def histories(events: list[Envelope] | None = None) -> dict[str, list[Envelope]]:
    by_scheme: dict[str, list[Envelope]] = defaultdict(list)
    for item in events or scenario_events():
        by_scheme[item.scheme_id].append(item)
    return dict(by_scheme)


def states(events: list[Envelope] | None = None) -> list[SchemeState]:
    folded = [fold(history) for history in histories(events).values()]
    return [state for state in folded if state is not None]
