"""Why each RAG box is the colour it is, as the scheme page and the API say it."""

from __future__ import annotations

from capital.application.schemes import rag_reasons
from programme.rag import RagPolicy, snapshot
from programme.scheme import fold
from tests.builders import day, event, registered

POLICY = RagPolicy()


def reasons(*history, today="2024-03-01"):
    return rag_reasons(snapshot(fold([registered(), *history]), day(today), POLICY), POLICY)


def test_a_slip_past_the_amber_limit_says_how_many_days_and_where_red_starts():
    slip = event("completion.revised", "2024-02-01", anticipated_completion="2024-08-11",
                 reason="asbestos")  # fmt: skip

    assert reasons(slip)["programme"] == (
        "slipped 42 days past the baseline completion (more than 28 days is red)"
    )
    assert reasons(slip)["overall"] == "the worse of programme (red) and budget (green)"


def test_a_small_slip_is_amber_and_says_so():
    slip = event("completion.revised", "2024-02-01", anticipated_completion="2024-07-10",
                 reason="weather")  # fmt: skip

    assert reasons(slip)["programme"] == (
        "slipped 10 days past the baseline completion (up to 28 is amber)"
    )


def test_an_overdue_scheme_says_since_when():
    assert reasons(today="2024-07-10")["programme"] == (
        "overdue: expected to complete on 2024-06-30, 10 days ago"
    )


def test_a_forecast_over_budget_says_by_how_much():
    over = event("forecast.revised", "2024-02-01", forecast_outturn="110000")

    assert reasons(over)["budget"] == "forecast 10.0% over budget (more than 5% is red)"
    assert reasons()["budget"] == "forecast outturn within budget"


def test_an_override_gives_its_reason_instead_of_the_rule():
    override = event("rag.overridden", "2024-02-01", which="overall", value="amber",
                     reason="Board accepted the delay")  # fmt: skip

    assert reasons(override)["overall"] == "overridden to amber: Board accepted the delay"
