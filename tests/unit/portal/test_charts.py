"""The scheme page's completion chart says in words what it draws."""

from __future__ import annotations

import datetime as dt

from capital.web.charts import completion_chart


def test_a_slipped_completion_is_drawn_red_and_described_in_words():
    chart = completion_chart(
        dt.date(2024, 5, 1), dt.date(2024, 12, 20), dt.date(2025, 1, 31), dt.date(2024, 7, 29)
    )

    assert chart is not None
    assert 'role="img"' in chart
    assert (
        "Baseline completion 20 Dec 2024; anticipated completion 31 Jan 2025, 42 days later"
        in chart
    )
    assert "#d4351c" in chart


def test_on_time_there_is_no_red_and_without_a_baseline_there_is_no_chart():
    on_time = completion_chart(None, dt.date(2024, 12, 20), dt.date(2024, 12, 20),
                               dt.date(2024, 7, 29))  # fmt: skip

    assert on_time is not None and "on time" in on_time and "#d4351c" not in on_time
    assert completion_chart(None, None, dt.date(2024, 12, 20), dt.date(2024, 7, 29)) is None
