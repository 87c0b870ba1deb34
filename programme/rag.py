"""Default RAG rules (design: "Default RAG rules"), configurable per deployment.

Pure functions of a scheme's state and the date it is judged on.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from events import Rag, SchemeSnapshot
from programme.scheme import SchemeState

_SEVERITY = {Rag.green: 0, Rag.amber: 1, Rag.red: 2}


class RagPolicy(BaseModel):
    """Thresholds a deployment may change (`CAPITAL_RAG__*` settings)."""

    model_config = ConfigDict(frozen=True)

    amber_max_slippage_days: int = Field(28, ge=0, description="Slippage above this is red.")
    budget_amber_max_overspend_percent: Decimal = Field(
        Decimal(5), ge=0, description="Forecast over budget by at most this % is amber."
    )
    overdue_is_red: bool = True


def worse(a: Rag, b: Rag) -> Rag:
    return a if _SEVERITY[a] >= _SEVERITY[b] else b


def worsened(before: Rag, after: Rag) -> bool:
    return _SEVERITY[after] > _SEVERITY[before]


def expected_completion(state: SchemeState) -> dt.date | None:
    """When the scheme is expected to complete: the anticipated date, or the baseline while
    no revised date has been recorded."""
    return state.anticipated_completion or state.baseline_completion


def slippage_days(state: SchemeState) -> int | None:
    """(actual completion if complete, else anticipated completion) - baseline."""
    end = state.actual_completion or expected_completion(state)
    if end is None or state.baseline_completion is None:
        return None
    return (end - state.baseline_completion).days


def is_overdue(state: SchemeState, today: dt.date) -> bool:
    if state.actual_completion is not None or state.is_finished:
        return False
    expected = expected_completion(state)
    return expected is not None and today > expected


def days_overdue(state: SchemeState, today: dt.date) -> int:
    """Days past the expected completion while not complete; 0 when not overdue."""
    expected = expected_completion(state)
    return (today - expected).days if expected and is_overdue(state, today) else 0


def programme_rag(state: SchemeState, today: dt.date, policy: RagPolicy) -> Rag:
    if policy.overdue_is_red and is_overdue(state, today):
        return Rag.red
    return slippage_rag(slippage_days(state), policy)


def slippage_rag(slipped: int | None, policy: RagPolicy) -> Rag:
    """The programme RAG a slip alone gives: green when none, amber up to
    `amber_max_slippage_days`, red beyond. A slippage alert's severity comes from this."""
    if slipped is None or slipped <= 0:
        return Rag.green
    return Rag.amber if slipped <= policy.amber_max_slippage_days else Rag.red


def budget_rag(state: SchemeState, policy: RagPolicy) -> Rag:
    forecast, budget = state.effective_forecast, state.budget
    if forecast <= budget:
        return Rag.green
    allowed = budget * (Decimal(100) + policy.budget_amber_max_overspend_percent) / Decimal(100)
    return Rag.amber if forecast <= allowed else Rag.red


def late_by(judged: SchemeSnapshot) -> tuple[dt.date, int] | None:
    """The expected completion an overdue judged scheme has passed, and by how many days;
    None when it is not overdue. Every explanation of a programme RAG asks this."""
    expected = judged.anticipated_completion or judged.baseline_completion
    if not judged.overdue or expected is None:
        return None
    return expected, (judged.evaluated_on - expected).days


def over_budget(judged: SchemeSnapshot) -> tuple[Decimal, Decimal | None] | None:
    """How far a judged scheme's forecast outturn is over its budget: the amount, and that as
    a percentage of the budget (None when there is no budget); None when within budget."""
    over = judged.forecast_outturn - judged.budget
    if over <= 0:
        return None
    return over, (over * 100 / judged.budget if judged.budget else None)


def programme_reason(state: SchemeState, today: dt.date) -> str:
    """Why the programme RAG the rules give is what it is, in a few words."""
    if (late := days_overdue(state, today)) > 0:
        return f"overdue by {_days(late)}"
    slipped = slippage_days(state)
    if slipped is None:
        return "no baseline completion date"
    if slipped <= 0:
        return "on or ahead of the baseline"
    return f"slipped {_days(slipped)}"


def budget_reason(state: SchemeState) -> str:
    """Why the budget RAG the rules give is what it is, in a few words."""
    over = state.effective_forecast - state.budget
    if over <= 0:
        return "forecast within budget"
    if state.budget <= 0:
        return f"forecast £{over:,.0f} over a budget of £0"
    return f"forecast {over * 100 / state.budget:.1f}% over budget"


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def snapshot(state: SchemeState, today: dt.date, policy: RagPolicy) -> SchemeSnapshot:
    """The scheme as judged on `today`; overrides win over computed values and are named."""
    overrides = state.override_map
    programme = (
        overrides["programme"].value
        if "programme" in overrides
        else programme_rag(state, today, policy)
    )
    budget = overrides["budget"].value if "budget" in overrides else budget_rag(state, policy)
    overall = overrides["overall"].value if "overall" in overrides else worse(programme, budget)
    reasons = {"programme": programme_reason(state, today), "budget": budget_reason(state)}
    reasons["overall"] = (
        reasons["programme"] if worse(programme, budget) is programme else reasons["budget"]
    )
    reasons.update({which: f"overridden: {o.reason}" for which, o in overrides.items()})
    return SchemeSnapshot(
        scheme_id=state.scheme_id,
        title=state.title,
        status=state.status,
        evaluated_on=today,
        baseline_completion=state.baseline_completion,
        anticipated_completion=state.anticipated_completion,
        actual_completion=state.actual_completion,
        slippage_days=slippage_days(state),
        overdue=is_overdue(state, today),
        programme_rag=programme,
        budget_rag=budget,
        overall_rag=overall,
        overrides={which: o.reason for which, o in overrides.items()},
        budget=state.budget,
        forecast_outturn=state.effective_forecast,
        forecast_reason=state.forecast_reason if state.forecast_outturn is not None else None,
        open_snags=len(state.open_snags),
        overdue_snags=len(state.overdue_snags(today)),
        public_sensitivity=state.public_sensitivity,
        project_manager=state.project_manager,
        expected_completion=expected_completion(state),
        expected_is_baseline=state.anticipated_completion is None
        and state.baseline_completion is not None,
        days_overdue=days_overdue(state, today),
        reasons=reasons,
    )
