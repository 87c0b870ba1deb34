"""What changed between two committees: the programme as known at the end of one date
against the programme as known at the end of a later one. Pure: no clock, no I/O.

Each scheme is folded twice (`programme.position.Position(known_on=...)`) and judged on
each date with the RAG rules, so the report is exactly the difference of the two positions.
The events recorded in between only say why and who: the reason a date moved, who moved it.
A scheme with nothing recorded in between can still change: it turns red the day it
passes its expected completion.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from events import Envelope, EventType, Rag, SchemeSnapshot, SchemeStatus
from events import payloads as p
from programme.position import Position
from programme.rag import RagPolicy, expected_completion, snapshot
from programme.scheme import Amendment, SchemeState, Snag
from services.reporter.formatting import day, full_title, money, natural_key, signed_money
from services.reporter.model import (
    AmountChange,
    ChangesReport,
    CompletionMove,
    OverrideChange,
    RagChange,
    Recorded,
    SchemeChanges,
    SnagChange,
)

RAG_BOXES = ("programme", "budget", "overall")
ZERO = Decimal(0)
TOTAL = "Total"

_COMPLETION_TYPES = (EventType.completion_revised, EventType.scheme_rebaselined)
_BUDGET_TYPES = (EventType.budget_changed, EventType.budget_transferred)


class PeriodError(ValueError):
    """The period asked for runs backwards."""


def check_period(since: dt.date, until: dt.date) -> None:
    if since > until:
        raise PeriodError(
            f"the period runs backwards: from {since.isoformat()} is after to {until.isoformat()}"
        )


def changes_between(
    histories: Mapping[str, Sequence[Envelope]],
    since: dt.date,
    until: dt.date,
    policy: RagPolicy,
    public: bool = False,
) -> ChangesReport:
    """The changes recorded after the end of `since` up to the end of `until`.

    `histories` holds each scheme's events in the order they were applied (any recorded
    after `until` are left out here). A scheme whose two positions differ in nothing a
    committee reads is not listed; the funding totals count every scheme."""
    check_period(since, until)
    before_position = Position(since, known_on=since)
    after_position = Position(until, known_on=until)
    schemes: list[SchemeChanges] = []
    budgets_before: dict[str, Decimal] = {}
    budgets_after: dict[str, Decimal] = {}
    forecast = [ZERO, ZERO]
    for scheme_id in sorted(histories, key=natural_key):
        history = histories[scheme_id]
        after = after_position.fold(history)
        if after is None:
            continue
        before = before_position.fold(history)
        _add(budgets_before, before.budget_by_source() if before else {})
        _add(budgets_after, after.budget_by_source())
        forecast[0] += before.effective_forecast if before else ZERO
        forecast[1] += after.effective_forecast
        in_period = [e for e in history if since < e.recorded_on <= until]
        changed = scheme_changes(before, after, in_period, since, until, policy)
        if changed.changed:
            schemes.append(changed)
    sources = sorted(set(budgets_before) | set(budgets_after), key=str.casefold)
    return ChangesReport(
        since=since,
        until=until,
        public=public,
        schemes=tuple(schemes),
        budget_by_source=tuple(
            change
            for source in sources
            if (change := _amount(source, budgets_before, budgets_after)).change
        ),
        budget_total=AmountChange(
            TOTAL, sum(budgets_before.values(), ZERO), sum(budgets_after.values(), ZERO)
        ),
        forecast_total=AmountChange(TOTAL, forecast[0], forecast[1]),
    )


def scheme_changes(
    before: SchemeState | None,
    after: SchemeState,
    in_period: Sequence[Envelope],
    since: dt.date,
    until: dt.date,
    policy: RagPolicy,
) -> SchemeChanges:
    """One scheme's two positions compared; `in_period` (its events recorded in between)
    gives the reasons and who."""
    judged_after = snapshot(after, until, policy)
    judged_before = snapshot(before, since, policy) if before else None
    return SchemeChanges(
        scheme_id=after.scheme_id,
        title=full_title(after.title, after.description),
        added=before is None,
        status_before=before.status if before else None,
        status_after=after.status,
        milestones=_milestones(before, after, in_period),
        completion=_completion(before, after, in_period),
        expected_completion=expected_completion(after),
        rag=_rag_changes(judged_before, judged_after),
        overall_rag=judged_after.overall_rag,
        budget=AmountChange("budget", before.budget if before else ZERO, after.budget),
        forecast=AmountChange(
            "forecast outturn",
            before.effective_forecast if before else ZERO,
            after.effective_forecast,
        ),
        budget_reasons=tuple(
            _recorded(event, _budget_what(event)) for event in _of(in_period, *_BUDGET_TYPES)
        ),
        forecast_reason=_forecast_reason(before, after, in_period),
        snags_raised=_snags_raised(before, after, in_period),
        snags_cleared=_snags_cleared(before, after, in_period),
        overrides=_overrides(before, after, in_period),
        amendments=tuple(
            _amendment(amendment) for amendment in after.amendments[_count_amendments(before) :]
        ),
    )


def who(event: Envelope) -> str | None:
    """Who made a change: the actor, and who recorded it for them when someone else did."""
    # An operator at the command line acting as themselves is recorded as their account.
    themselves = (event.actor, f"operator:{event.actor}")
    if event.recorded_by and event.recorded_by not in themselves:
        return f"{event.actor or 'unknown'} (recorded by {event.recorded_by})"
    return event.actor


def _recorded(event: Envelope, what: str, reason: str | None = None) -> Recorded:
    return Recorded(what, event.occurred_on, reason or _reason(event), who(event))


def _reason(event: Envelope) -> str | None:
    reason = getattr(event.payload, "reason", None)
    return reason if isinstance(reason, str) else None


def _of(events: Iterable[Envelope], *types: EventType) -> list[Envelope]:
    return [event for event in events if event.type in types]


def _last(events: Iterable[Envelope], *types: EventType) -> Envelope | None:
    found = _of(events, *types)
    return found[-1] if found else None


def _add(totals: dict[str, Decimal], amounts: Mapping[str, Decimal]) -> None:
    for source, amount in amounts.items():
        totals[source] = totals.get(source, ZERO) + amount


def _amount(name: str, before: Mapping[str, Decimal], after: Mapping[str, Decimal]) -> AmountChange:
    return AmountChange(name, before.get(name, ZERO), after.get(name, ZERO))


# --- status ------------------------------------------------------------------------------

_MILESTONES: tuple[tuple[str, EventType], ...] = (
    ("Added", EventType.scheme_registered),
    ("Started", EventType.scheme_started),
    ("Completed", EventType.scheme_completed),
    ("Handed over", EventType.scheme_handed_over),
    ("Put on hold", EventType.scheme_on_hold),
    ("Resumed", EventType.scheme_resumed),
    ("Cancelled", EventType.scheme_cancelled),
)
MILESTONES = tuple(name for name, _ in _MILESTONES)


def _milestones(
    before: SchemeState | None, after: SchemeState, in_period: Sequence[Envelope]
) -> tuple[Recorded, ...]:
    """The steps in a scheme's life between the two positions, each once, dated by when it
    happened: added, started, completed, handed over, put on hold, resumed, cancelled. A
    scheme put on hold and resumed in the period is where it was: neither is listed."""
    reached = {
        "Added": (before is None, after.registered_on),
        "Started": _newly(before.actual_start if before else None, after.actual_start),
        "Completed": _newly(before.actual_completion if before else None, after.actual_completion),
        "Handed over": _newly(before.handed_over_on if before else None, after.handed_over_on),
        "Put on hold": (
            after.status is SchemeStatus.on_hold
            and (before is None or before.status is not SchemeStatus.on_hold),
            None,
        ),
        "Resumed": (
            before is not None
            and before.status is SchemeStatus.on_hold
            and after.status in (SchemeStatus.registered, SchemeStatus.on_site),
            None,
        ),
        "Cancelled": (
            after.status is SchemeStatus.cancelled
            and (before is None or before.status is not SchemeStatus.cancelled),
            None,
        ),
    }
    steps = []
    for name, event_type in _MILESTONES:
        happened, on = reached[name]
        if not happened:
            continue
        event = _last(in_period, event_type)
        reason = after.status_reason if name in ("Put on hold", "Resumed", "Cancelled") else None
        steps.append(
            Recorded(
                name,
                on or (event.occurred_on if event else None),
                reason,
                who(event) if event else None,
            )
        )
    return tuple(steps)


def _newly(before: dt.date | None, after: dt.date | None) -> tuple[bool, dt.date | None]:
    """Whether a date a scheme reaches once (started, completed) was reached in between."""
    return (before is None and after is not None), after


# --- completion --------------------------------------------------------------------------


def _completion(
    before: SchemeState | None, after: SchemeState, in_period: Sequence[Envelope]
) -> CompletionMove | None:
    """The expected completion moved (a new scheme's first date is not a move)."""
    if before is None:
        return None
    was, now = expected_completion(before), expected_completion(after)
    if was == now:
        return None
    revisions = tuple(
        _recorded(event, _completion_what(event)) for event in _of(in_period, *_COMPLETION_TYPES)
    )
    return CompletionMove(was, now, revisions)


def _completion_what(event: Envelope) -> str:
    body = event.payload
    if isinstance(body, p.SchemeRebaselined):
        return f"rebaselined to {day(body.baseline_completion)}"
    if isinstance(body, p.CompletionRevised):
        return f"revised to {day(body.anticipated_completion)}"
    return event.type.value


# --- RAG ---------------------------------------------------------------------------------


def _rag_changes(before: SchemeSnapshot | None, after: SchemeSnapshot) -> tuple[RagChange, ...]:
    if before is None:
        return ()
    return tuple(
        RagChange(
            box,
            getattr(before, f"{box}_rag"),
            getattr(after, f"{box}_rag"),
            before.reasons.get(box, ""),
            after.reasons.get(box, ""),
        )
        for box in RAG_BOXES
        if getattr(before, f"{box}_rag") is not getattr(after, f"{box}_rag")
    )


# --- money -------------------------------------------------------------------------------


def _budget_what(event: Envelope) -> str:
    body = event.payload
    if isinstance(body, p.BudgetTransferred):
        return f"{money(body.amount)} moved from {body.from_source} to {body.to_source}"
    if isinstance(body, p.BudgetChanged):
        return f"{signed_money(body.amount)} on {body.funding_source}"
    return event.type.value


def _forecast_reason(
    before: SchemeState | None, after: SchemeState, in_period: Sequence[Envelope]
) -> Recorded | None:
    if before is None or before.effective_forecast == after.effective_forecast:
        return None
    event = _last(in_period, EventType.forecast_revised)
    if event is None:  # the forecast followed the budget
        return None
    return _recorded(event, "forecast revised", after.forecast_reason)


# --- snags, overrides, amendments ----------------------------------------------------------


def _snags_raised(
    before: SchemeState | None, after: SchemeState, in_period: Sequence[Envelope]
) -> tuple[SnagChange, ...]:
    """Snags open or cleared now that were not open before (a snag raised and cleared in
    the period is listed as both)."""
    open_before = {snag.snag_id for snag in before.open_snags} if before else set()
    new = [*after.open_snags, *_newly_cleared(before, after)]
    return tuple(
        _snag(snag, snag.raised_on, in_period, EventType.snagging_raised)
        for snag in new
        if snag.snag_id not in open_before
    )


def _snags_cleared(
    before: SchemeState | None, after: SchemeState, in_period: Sequence[Envelope]
) -> tuple[SnagChange, ...]:
    return tuple(
        _snag(snag, snag.cleared_on, in_period, EventType.snagging_cleared)
        for snag in _newly_cleared(before, after)
    )


def _newly_cleared(before: SchemeState | None, after: SchemeState) -> tuple[Snag, ...]:
    # Cleared snags are only ever appended to.
    return after.cleared_snags[len(before.cleared_snags) if before else 0 :]


def _snag(
    snag: Snag, on: dt.date | None, in_period: Sequence[Envelope], event_type: EventType
) -> SnagChange:
    event = next(
        (
            e
            for e in reversed(_of(in_period, event_type))
            if getattr(e.payload, "snag_id", None) == snag.snag_id
        ),
        None,
    )
    return SnagChange(
        snag.snag_id, snag.description, on, snag.due_on, who(event) if event else None
    )


def _overrides(
    before: SchemeState | None, after: SchemeState, in_period: Sequence[Envelope]
) -> tuple[OverrideChange, ...]:
    was = before.override_map if before else {}
    now = after.override_map
    changes = []
    for box in RAG_BOXES:
        old, new = was.get(box), now.get(box)
        if old == new:
            continue
        event = next(
            (
                e
                for e in reversed(_of(in_period, EventType.rag_overridden))
                if getattr(e.payload, "which", None) == box
            ),
            None,
        )
        changes.append(
            OverrideChange(
                box,
                old.value if old else None,
                new.value if new else None,
                new.reason if new else (_reason(event) if event else None),
                who(event) if event else (new.actor if new else None),
            )
        )
    return tuple(changes)


def _count_amendments(before: SchemeState | None) -> int:
    return len(before.amendments) if before else 0


def _amendment(amendment: Amendment) -> Recorded:
    fields = "; ".join(
        f"{change.field}: {change.old or '(none)'} → {change.new or '(none)'}"
        for change in amendment.changes
    )
    return Recorded(fields, amendment.on, amendment.reason, amendment.actor)


# --- in a sentence -------------------------------------------------------------------------


def summary(report: ChangesReport) -> str:
    """The period in one sentence, the way a committee paper opens: "3 completion dates
    moved, 1 scheme added and 2 snags cleared." """
    schemes = report.schemes
    # A scheme added in the period is counted as added, not again as started or completed.
    reached = [
        step.what
        for scheme in schemes
        for step in scheme.milestones
        if step.what == "Added" or not scheme.added
    ]
    turned = [scheme.overall_rag for scheme in schemes for c in scheme.rag if c.box == "overall"]
    existing = [scheme for scheme in schemes if not scheme.added]
    parts = [
        _count(sum(1 for s in schemes if s.completion), "completion date", "moved"),
        *(_count(reached.count(step), "scheme", step.lower()) for step in MILESTONES),
        *(_count(turned.count(rag), "scheme", f"turned {rag.value}") for rag in _WORST_FIRST),
        _count(sum(1 for s in existing if s.budget.change), "budget", "changed"),
        # A forecast that only followed its budget was not revised.
        _count(
            sum(1 for s in existing if s.forecast.change and s.forecast_reason),
            "forecast",
            "revised",
        ),
        _count(sum(len(s.snags_raised) for s in schemes), "snag", "raised"),
        _count(sum(len(s.snags_cleared) for s in schemes), "snag", "cleared"),
        _count(sum(len(s.overrides) for s in schemes), "RAG override", "set or lifted"),
        _count(sum(len(s.amendments) for s in schemes), "record", "amended"),
    ]
    said = [part for part in parts if part]
    if not said:
        return "Nothing recorded in the period changed the programme."
    sentence = said[0] if len(said) == 1 else f"{', '.join(said[:-1])} and {said[-1]}"
    return sentence[0].upper() + sentence[1:] + "."


_WORST_FIRST = (Rag.red, Rag.amber, Rag.green)


def _count(number: int, noun: str, verb: str) -> str:
    if not number:
        return ""
    return f"{number} {noun}{'' if number == 1 else 's'} {verb}"
