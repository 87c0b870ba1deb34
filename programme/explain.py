"""Where each RAG colour starts, for the scheme page: "more than 28 days is red". Pure.

The reasons themselves ("slipped 42 days") are the snapshot's (`programme.rag.snapshot`);
this adds only the deployment's threshold the figure in the reason was judged against.
"""

from __future__ import annotations

from events import SchemeSnapshot
from programme.rag import RagPolicy, over_budget


def rag_bands(judged: SchemeSnapshot, policy: RagPolicy) -> dict[str, str]:
    """The rule's band behind each computed box that is not green (none for a box a person
    overrode: the override's reason is the explanation)."""
    bands: dict[str, str] = {}
    if "programme" not in judged.overrides:
        slipped = judged.slippage_days or 0
        limit = policy.amber_max_slippage_days
        if judged.days_overdue > 0 and policy.overdue_is_red:
            bands["programme"] = "past its expected completion is red"
        elif slipped > limit:
            bands["programme"] = f"more than {limit} days is red"
        elif slipped > 0:
            bands["programme"] = f"up to {limit} days is amber"
    overspend = over_budget(judged)
    if "budget" not in judged.overrides and overspend is not None and overspend[1] is not None:
        limit_percent = policy.budget_amber_max_overspend_percent
        bands["budget"] = (
            f"more than {limit_percent}% is red"
            if overspend[1] > limit_percent
            else f"up to {limit_percent}% is amber"
        )
    return bands
