"""Why each RAG box is the colour it is, as the scheme page and the API say it: the
snapshot's reason, and the deployment's band the figure in it was judged against."""

from __future__ import annotations

from programme.explain import rag_bands
from programme.rag import RagPolicy, snapshot
from programme.scheme import fold
from tests.builders import day, event, registered

POLICY = RagPolicy()


def explained(*history, today="2024-03-01") -> dict[str, tuple[str, str | None]]:
    judged = snapshot(fold([registered(), *history]), day(today), POLICY)
    bands = rag_bands(judged, POLICY)
    return {box: (judged.reasons[box], bands.get(box)) for box in judged.reasons}


def test_a_slip_past_the_amber_limit_says_how_many_days_and_where_red_starts():
    slip = event("completion.revised", "2024-02-01", anticipated_completion="2024-08-11",
                 reason="asbestos")  # fmt: skip

    assert explained(slip)["programme"] == ("slipped 42 days", "more than 28 days is red")
    assert explained(slip)["overall"] == ("slipped 42 days", None)


def test_a_small_slip_is_amber_and_says_so():
    slip = event("completion.revised", "2024-02-01", anticipated_completion="2024-07-10",
                 reason="weather")  # fmt: skip

    assert explained(slip)["programme"] == ("slipped 10 days", "up to 28 days is amber")


def test_an_overdue_scheme_never_revised_says_by_how_long():
    assert explained(today="2024-07-10")["programme"] == (
        "overdue by 10 days",
        "past its expected completion is red",
    )


def test_a_forecast_over_budget_says_by_how_much():
    over = event("forecast.revised", "2024-02-01", forecast_outturn="110000")

    assert explained(over)["budget"] == ("forecast 10.0% over budget", "more than 5% is red")
    assert explained()["budget"] == ("forecast within budget", None)


def test_an_override_gives_its_reason_instead_of_the_rule():
    override = event("rag.overridden", "2024-02-01", which="programme", value="amber",
                     reason="Board accepted the delay")  # fmt: skip
    slip = event("completion.revised", "2024-02-01", anticipated_completion="2024-08-11",
                 reason="asbestos")  # fmt: skip

    assert explained(slip, override)["programme"] == (
        "overridden: Board accepted the delay",
        None,
    )
