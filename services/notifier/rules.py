"""Alert rules (design: "Alerts"). Pure functions of scheme state, the event that changed it
and the date: no clock, no I/O. They import only the standard library, pydantic, `events`
and `programme`, like the RAG rules beside which they sit.

Every state change's snapshots are judged as at the event's own date (the tracker does so),
so an event published long after it happened is judged as it stood then, not by the clock.

- `slippage`: a `completion.revised` moves the anticipated date later and slippage against
  the baseline is above zero. Severity comes from the slip it reports (`slippage_rag`: up to
  `amber_max_slippage_days` a warning, beyond that critical), not from whether the scheme is
  also overdue; a person's programme RAG override still wins.
- `budget`: forecast outturn exceeds the budget, and by more than before the event.
- `rag_change`: programme, budget or overall RAG worsens. When a slippage or budget alert
  already reports the same event (its details carry every RAG transition) no second alert
  is raised: one event, one message to a busy person.
- `overdue`: the daily sweep finds a scheme the tracker judged overdue (not complete past
  its anticipated completion, or its baseline while none is logged: `SchemeSnapshot.overdue`
  from `programme.rag`, not a rule of the notifier's own); once per scheme and expected
  date. An event raises that same alert (under the same key, instead of a RAG change) only
  when it makes the scheme's latest known expected completion one already past on the
  event's own date (a register imported with an anticipated date already gone); the sweep
  then finds it raised.

News that arrives late (`arrived_late`) waits for the digest instead of going out at once,
and a waiting alert that a later event of its scheme has `superseded` is never raised.

Every alert has a de-duplication key built from what makes it unique, so replaying the
same events, or sweeping the same day twice, raises nothing twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from events import (
    AlertKind,
    AlertRaised,
    Envelope,
    EventType,
    Rag,
    SchemeSnapshot,
    SchemeStateChanged,
    SchemeStatus,
)
from events import Severity as Sev
from events.alerts import DetailValue
from programme.rag import RagPolicy, slippage_rag, worsened

RAG_BOXES = ("programme", "budget", "overall")
_SEVERITY_OF_RAG = {Rag.red: Sev.critical, Rag.amber: Sev.warning, Rag.green: Sev.info}


def alerts_for_change(
    change: SchemeStateChanged, raised_at: dt.datetime, policy: RagPolicy
) -> list[AlertRaised]:
    """Every alert one applied event raises, most specific first."""
    specific = [
        alert
        for alert in (slippage_alert(change, raised_at, policy), budget_alert(change, raised_at))
        if alert is not None
    ]
    if specific:
        return specific
    explained = newly_overdue_alert(change, raised_at) or rag_change_alert(change, raised_at)
    return [explained] if explained is not None else []


def slippage_alert(
    change: SchemeStateChanged, raised_at: dt.datetime, policy: RagPolicy
) -> AlertRaised | None:
    before, after, cause = change.previous, change.current, change.cause
    if cause.type is not EventType.completion_revised or before is None:
        return None
    new_date = after.anticipated_completion
    # Until a first revision, a scheme is expected to finish on its baseline.
    old_date = before.anticipated_completion or before.baseline_completion
    if new_date is None or after.actual_completion is not None:
        return None
    if old_date is not None and new_date <= old_date:
        return None
    slipped = after.slippage_days
    if slipped is None or slipped <= 0:
        return None
    scheme = after.scheme_id
    headline = f"{scheme} slipped {days(slipped)}: new completion {long_date(new_date)}"
    was = f"from {long_date(old_date)} " if old_date else ""
    message = (
        f"{headline}. {after.title}: anticipated completion moved {was}to "
        f"{long_date(new_date)}, {days(slipped)} beyond the baseline "
        f"{long_date(after.baseline_completion)}; programme RAG {after.programme_rag.value}."
        f"{_reason_and_actor(change)}"
    )
    details: dict[str, DetailValue] = {
        "title": after.title,
        "previous_anticipated_completion": _iso(old_date),
        "anticipated_completion": _iso(new_date),
        "baseline_completion": _iso(after.baseline_completion),
        "slippage_days": slipped,
        "moved_by_days": (new_date - old_date).days if old_date else None,
        **_cause_facts(change),
        **_rag_facts(before, after),
        "project_manager": after.project_manager,
    }
    key = f"slippage:{scheme}:{cause.event_id}"
    # The slip's own RAG, not the programme's: the scheme may also be overdue, which the
    # sweep reports; only a person's override of the programme RAG says otherwise.
    overridden = "programme" in after.overrides
    return _alert(
        AlertKind.slippage,
        key,
        scheme,
        after.programme_rag if overridden else slippage_rag(slipped, policy),
        headline,
        message,
        details,
        raised_at,
        change,
    )


def budget_alert(change: SchemeStateChanged, raised_at: dt.datetime) -> AlertRaised | None:
    before, after, cause = change.previous, change.current, change.cause
    overspend = after.forecast_outturn - after.budget
    if overspend <= 0:
        return None
    if before is not None and overspend <= before.forecast_outturn - before.budget:
        return None  # no worse than it was: already known, perhaps improving
    scheme = after.scheme_id
    share = overspend_percent(after)
    by = f"{pounds(overspend)} ({share}%)" if share is not None else pounds(overspend)
    headline = (
        f"{scheme} forecast {pounds(after.forecast_outturn)} is {by} over budget "
        f"{pounds(after.budget)}"
    )
    message = (
        f"{headline}. {after.title}: budget RAG {after.budget_rag.value}."
        f"{_reason_and_actor(change)}"
    )
    details: dict[str, DetailValue] = {
        "title": after.title,
        "budget": str(after.budget),
        "forecast_outturn": str(after.forecast_outturn),
        "previous_forecast_outturn": str(before.forecast_outturn) if before else None,
        "overspend": str(overspend),
        "overspend_percent": str(share) if share is not None else None,
        **_cause_facts(change),
        **_rag_facts(before, after),
        "project_manager": after.project_manager,
    }
    key = f"budget:{scheme}:{cause.event_id}"
    return _alert(
        AlertKind.budget,
        key,
        scheme,
        after.budget_rag,
        headline,
        message,
        details,
        raised_at,
        change,
    )


def rag_change_alert(change: SchemeStateChanged, raised_at: dt.datetime) -> AlertRaised | None:
    before, after, cause = change.previous, change.current, change.cause
    if before is None:
        return None
    moves = [
        (box, _rag(before, box), _rag(after, box))
        for box in RAG_BOXES
        if worsened(_rag(before, box), _rag(after, box))
    ]
    if not moves:
        return None
    worst = max((new for _, _, new in moves), key=lambda rag: _SEVERITY_OF_RAG[rag].rank)
    scheme = after.scheme_id
    moved = ", ".join(f"{box} {old.value} → {new.value}" for box, old, new in moves)
    headline = f"{scheme} RAG worsened: {moved}"
    overrides = "".join(
        f" {box.capitalize()} RAG overridden: {reason}." for box, reason in after.overrides.items()
    )
    message = (
        f"{headline}. {after.title}: after {cause.type.value} on "
        f"{long_date(cause.occurred_on)}.{overrides}{_reason_and_actor(change)}"
    )
    details: dict[str, DetailValue] = {
        "title": after.title,
        **_cause_facts(change),
        **_rag_facts(before, after),
        "slippage_days": after.slippage_days,
        "anticipated_completion": _iso(after.anticipated_completion),
        "project_manager": after.project_manager,
    }
    key = f"rag_change:{scheme}:{cause.event_id}"
    return _alert(
        AlertKind.rag_change, key, scheme, worst, headline, message, details, raised_at, change
    )


def newly_overdue_alert(change: SchemeStateChanged, raised_at: dt.datetime) -> AlertRaised | None:
    """The event turned the programme red by showing the scheme overdue (the tracker's own
    overdue judgement, which drives the RAG), and no person overrode that RAG."""
    before, after = change.previous, change.current
    if before is None or before.overdue or not after.overdue or "programme" in after.overrides:
        return None
    return overdue_alert(after, raised_at, change)


def overdue_alerts(
    snapshots: Iterable[SchemeSnapshot], raised_at: dt.datetime
) -> list[AlertRaised]:
    """The sweep: one alert per scheme the tracker judged overdue on the date its snapshot
    was taken (`SchemeSnapshot.overdue`, from `programme.rag.is_overdue`: the notifier does
    not judge lateness itself). The key names the expected date, so each date raises once
    however many mornings pass, and a new anticipated date that passes in turn raises
    again."""
    return [overdue_alert(snapshot, raised_at) for snapshot in snapshots if snapshot.overdue]


def overdue_alert(
    snapshot: SchemeSnapshot, raised_at: dt.datetime, change: SchemeStateChanged | None = None
) -> AlertRaised:
    """The alert for a snapshot the tracker judged overdue on `snapshot.evaluated_on`."""
    due = _due(snapshot)
    assert snapshot.overdue and due is not None, "only overdue schemes have alerts"
    today = snapshot.evaluated_on
    late = (today - due).days
    # The tracker's programme RAG already says what overdue means here: red by default,
    # unless a person overrode it or the deployment turned `overdue_is_red` off.
    rag = snapshot.programme_rag
    scheme = snapshot.scheme_id
    which = "anticipated completion" if snapshot.anticipated_completion else "baseline completion"
    headline = f"{scheme} overdue: completion was due {long_date(due)} ({days(late)} ago)"
    unrevised = "; no revised date has been logged" if not snapshot.anticipated_completion else ""
    message = (
        f"{headline}. {snapshot.title}: {snapshot.status.value.replace('_', ' ')}, not complete "
        f"{days(late)} after its {which}{unrevised}."
    )
    details: dict[str, DetailValue] = {
        "title": snapshot.title,
        "status": snapshot.status.value,
        "expected_completion": due.isoformat(),
        "anticipated_completion": _iso(snapshot.anticipated_completion),
        "baseline_completion": _iso(snapshot.baseline_completion),
        "days_overdue": late,
        "slippage_days": snapshot.slippage_days,
        "programme_rag": rag.value,
        "overall_rag": snapshot.overall_rag.value,
        "judged_on": today.isoformat(),
        "project_manager": snapshot.project_manager,
    }
    if change is not None:
        details |= {**_cause_facts(change), **_rag_facts(change.previous, snapshot)}
    key = f"overdue:{scheme}:{due.isoformat()}"
    return _alert(
        AlertKind.overdue, key, scheme, rag, headline, message, details, raised_at, change
    )


def arrived_late(cause: Envelope, today: dt.date, late_after_days: int) -> bool:
    """Whether news of the event reached us more than `late_after_days` after it happened:
    recorded late, or published or imported today from an old history (whatever its
    `recorded_at` says, the people alerted hear of it now). Its alerts wait for the digest."""
    heard_on = max(cause.recorded_on, today)
    return (heard_on - cause.occurred_on).days > late_after_days


_CLOSED = frozenset({SchemeStatus.complete, SchemeStatus.handed_over, SchemeStatus.cancelled})


def superseded(alert: AlertRaised, later: SchemeSnapshot) -> bool:
    """Whether a later state of the alert's scheme no longer shows what the alert reported:
    the anticipated date it slipped to, or the date it was overdue against, has moved or
    the scheme has closed; the forecast or budget it was over has changed; the RAG it
    worsened to is no longer what it is."""
    facts = alert.details
    closed = later.actual_completion is not None or later.status in _CLOSED
    if alert.kind is AlertKind.slippage:
        return closed or _iso(later.anticipated_completion) != facts.get("anticipated_completion")
    if alert.kind is AlertKind.overdue:
        return closed or _iso(_due(later)) != facts.get("expected_completion")
    if alert.kind is AlertKind.budget:
        return (later.forecast_outturn, later.budget) != (
            Decimal(str(facts.get("forecast_outturn"))),
            Decimal(str(facts.get("budget"))),
        )
    return any(_rag(later, box).value != facts.get(f"{box}_rag") for box in RAG_BOXES)


def _due(snapshot: SchemeSnapshot) -> dt.date | None:
    """The date the tracker judged lateness against (`programme.rag.expected_completion`),
    as the snapshot carries it: the anticipated completion, else the baseline."""
    return snapshot.anticipated_completion or snapshot.baseline_completion


def long_date(day: dt.date | None) -> str:
    """`6 Jan 2023`: unambiguous to a UK reader, short enough for a subject line."""
    return f"{day.day} {day:%b %Y}" if day is not None else "not set"


def days(count: int) -> str:
    return f"{count} day" if abs(count) == 1 else f"{count} days"


def pounds(amount: Decimal) -> str:
    whole = amount == amount.to_integral_value()
    return f"£{amount:,.0f}" if whole else f"£{amount:,.2f}"


def overspend_percent(snapshot: SchemeSnapshot) -> Decimal | None:
    if snapshot.budget <= 0:
        return None
    over = (snapshot.forecast_outturn - snapshot.budget) * 100 / snapshot.budget
    return over.quantize(Decimal("0.1"))


def _alert(
    kind: AlertKind,
    key: str,
    scheme_id: str,
    rag: Rag,
    headline: str,
    message: str,
    details: dict[str, DetailValue],
    raised_at: dt.datetime,
    change: SchemeStateChanged | None = None,
) -> AlertRaised:
    """What every alert shares: its id from its key, its severity from the RAG box it is
    about (red critical, amber warning, green information) and that box in its subject."""
    return AlertRaised(
        alert_id=AlertRaised.alert_id_for(key),
        dedup_key=key,
        scheme_id=scheme_id,
        kind=kind,
        severity=_SEVERITY_OF_RAG[rag],
        subject=f"[{rag.value.upper()}] {headline}",
        message=message,
        details=details,
        raised_at=raised_at,
        cause_event_id=change.cause.event_id if change else None,
        actor=change.cause.actor if change else None,
    )


def _rag(snapshot: SchemeSnapshot, box: str) -> Rag:
    return getattr(snapshot, f"{box}_rag")


def _rag_facts(before: SchemeSnapshot | None, after: SchemeSnapshot) -> dict[str, DetailValue]:
    facts: dict[str, DetailValue] = {f"{box}_rag": _rag(after, box).value for box in RAG_BOXES}
    if before is not None:
        facts.update(
            {f"previous_{box}_rag": _rag(before, box).value for box in RAG_BOXES},
        )
    return facts


def _cause_facts(change: SchemeStateChanged) -> dict[str, DetailValue]:
    cause = change.cause
    return {
        "event": cause.type.value,
        "occurred_on": cause.occurred_on.isoformat(),
        "reason": getattr(cause.payload, "reason", None),
        "logged_by": cause.actor,
    }


def _reason_and_actor(change: SchemeStateChanged) -> str:
    reason = getattr(change.cause.payload, "reason", None)
    said = f" Reason: {reason}." if reason else ""
    by = f" Logged by {change.cause.actor}." if change.cause.actor else ""
    return said + by


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None
