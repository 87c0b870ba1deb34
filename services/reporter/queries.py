"""How the reports get their figures.

Budget by source is aggregated in SQL over `funding_movement` and `scheme_version`: no
scheme state is loaded into Python, only the few source rows come back. The programme,
slippage and pack
reports judge each scheme with the RAG rules (`programme.rag`), so they fold scheme states
(`projection.views.scheme_states`) and work on them with pure functions.

A position (`ReportScope.as_at`, `known_on`) means: only events that occurred by the as-at
date and were recorded by the known-on date count, exactly as the fold does
(`programme.position.Position.fold`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Numeric,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from events import Envelope, EventType, Rag, SchemeSnapshot, SchemeStatus
from events import payloads as p
from events.payloads import PublicSensitivity
from programme.rag import RagPolicy, days_overdue, late_by, over_budget, snapshot
from programme.scheme import (
    UNALLOCATED,
    FundingKind,
    SchemeState,
    public_sensitivity_on,
)
from projection.tables import FundingMovement, SchemeVersion
from projection.views import scheme_histories, scheme_states
from services.reporter.changes import changes_between, check_period
from services.reporter.formatting import day, full_title, money, natural_key, percent
from services.reporter.model import (
    TOTAL,
    BudgetBySource,
    BudgetChange,
    ChangesReport,
    CommitteePack,
    CompletionRevision,
    FundingApproval,
    OverdueSnag,
    ProgrammeReport,
    RagBreakdown,
    RagCounts,
    Report,
    ReportKind,
    ReportScope,
    SchemeCard,
    SchemeConcern,
    SlippageReport,
    SlippageRow,
    SourceFigures,
)

RAG_KINDS = ("programme", "budget", "overall")
_CHANGES = (FundingKind.change, FundingKind.transfer)
NO_PROGRAMME = "No programme"

_VERSION = SchemeVersion.__table__  # type: ignore[attr-defined]
_MOVEMENT = FundingMovement.__table__  # type: ignore[attr-defined]

# Pro rata shares are fractions of a penny until the final rounding: exact NUMERIC on
# PostgreSQL; SQLite has no decimal type, and integer division would truncate there.
_FRACTION = Numeric(38, 12).with_variant(Float(), "sqlite")


class ReconciliationError(RuntimeError):
    """The source rows do not add up to the schemes: never print such a report."""


# --- budget by source (SQL) --------------------------------------------------------------


def budget_by_source(session: Session, scope: ReportScope) -> BudgetBySource:
    """Budget, forecast outturn and variance per funding source, with a total that
    reconciles to the sum of the schemes. The rules are in docs/reports.md:

    - approved budget: a source's funding lines at registration; budget a registration
      did not split between sources is "Unallocated";
    - budget changes: `budget.changed` amounts, under the source each one names;
    - forecast outturn: the source's budget plus its part of each scheme's variance
      (forecast minus budget). A scheme's variance goes to the source named by its
      latest `budget.changed`; without one it is shared pro rata to the sources' budgets.
    """
    rows = _allocation(scope, hidden_from_public(session, scope) if scope.public else set())
    # A scheme row stands in the Unallocated row only when it holds money.
    counted = ~rows.c.scheme_row | (rows.c.budget_p != 0) | (rows.c.variance_share_p != 0)
    by_source = select(
        rows.c.funding_source,
        func.count(case((counted, rows.c.scheme_id)).distinct()),
        func.sum(rows.c.approved_p),
        func.sum(rows.c.change_p),
        func.sum(rows.c.budget_p),
        func.sum(rows.c.variance_share_p),
        cast(null(), BigInteger),
    ).group_by(rows.c.funding_source)
    # The total row is worked out from the schemes themselves (one scheme row each), in
    # the same statement. It is the row without a funding source.
    total = select(
        cast(null(), String),
        func.count(),
        func.coalesce(func.sum(rows.c.scheme_registered_p), 0),
        func.coalesce(func.sum(rows.c.scheme_change_p), 0),
        func.coalesce(func.sum(rows.c.scheme_budget_p), 0),
        cast(null(), _FRACTION),
        func.coalesce(func.sum(rows.c.scheme_forecast_p), 0),
    ).where(rows.c.scheme_row)
    result = session.execute(union_all(by_source, total)).all()
    (totals,) = [row for row in result if row[0] is None]
    return _source_figures(scope, [row for row in result if row[0] is not None], tuple(totals[1:]))


def _allocation(scope: ReportScope, hidden: set[str]) -> Any:
    """One row per scheme and funding source in the scope's position (its budget and its
    share of the scheme's variance, in pence, shares fractional) plus one row per scheme
    (its figures, and the budget its lines do not account for, as Unallocated). Schemes
    in `hidden` are left out.

    In one pass and without self-joins: the facts of every scheme (its registration, its
    funding lines, its latest forecast) are put in one list, and window functions over
    each scheme's facts give every row its scheme's figures.
    """
    version, movement = _VERSION, _MOVEMENT
    none = cast(null(), BigInteger)

    registrations = select(
        version.c.scheme_id,
        cast(null(), String).label("funding_source"),
        literal(1).label("scheme_row"),
        _pence(version.c.budget).label("registered_p"),
        literal(0).label("approved_p"),
        literal(0).label("change_p"),
        none.label("last_change"),
        none.label("forecast_p"),
    ).where(version.c.event_type == EventType.scheme_registered.value, _known(version, scope))
    if scope.public:
        registrations = registrations.where(version.c.scheme_id.not_in(hidden))
    lines = (
        select(
            movement.c.scheme_id,
            movement.c.funding_source,
            literal(0),
            literal(0),
            func.sum(
                case((movement.c.kind == FundingKind.approved, _pence(movement.c.amount)), else_=0)
            ),
            # Transfers move budget between sources: a change on each, nothing in total.
            func.sum(case((movement.c.kind.in_(_CHANGES), _pence(movement.c.amount)), else_=0)),
            # The latest budget change on this line: the scheme's latest names its source.
            func.max(case((movement.c.kind == FundingKind.change, movement.c.seq))),
            none,
        )
        .where(_known(movement, scope))
        .group_by(movement.c.scheme_id, movement.c.funding_source)
    )
    latest_forecast = (
        select(version.c.scheme_id, func.max(version.c.seq).label("seq"))
        .where(version.c.event_type == EventType.forecast_revised.value, _known(version, scope))
        .group_by(version.c.scheme_id)
        .subquery("latest_forecast")
    )
    forecasts = select(
        version.c.scheme_id,
        cast(null(), String),
        literal(0),
        literal(0),
        literal(0),
        literal(0),
        none,
        _pence(version.c.forecast_outturn),
    ).join(
        latest_forecast,
        and_(
            # Naming the event type again lets the database read the forecast from the
            # covering index instead of the table.
            version.c.event_type == EventType.forecast_revised.value,
            version.c.scheme_id == latest_forecast.c.scheme_id,
            version.c.seq == latest_forecast.c.seq,
        ),
    )
    facts = union_all(registrations, lines, forecasts).subquery("facts")

    def per_scheme(aggregate: Any) -> Any:
        return aggregate.over(partition_by=facts.c.scheme_id)

    spread = select(
        facts,
        per_scheme(func.max(facts.c.scheme_row)).label("registered"),
        per_scheme(func.sum(facts.c.registered_p)).label("scheme_registered_p"),
        per_scheme(func.sum(facts.c.approved_p)).label("scheme_approved_p"),
        per_scheme(func.sum(facts.c.change_p)).label("scheme_change_p"),
        per_scheme(func.max(facts.c.last_change)).label("scheme_last_change"),
        per_scheme(func.max(facts.c.forecast_p)).label("scheme_forecast_revised_p"),
    ).subquery("spread")

    scheme_row = spread.c.scheme_row == 1
    scheme_budget_p = spread.c.scheme_registered_p + spread.c.scheme_change_p
    scheme_forecast_p = func.coalesce(spread.c.scheme_forecast_revised_p, scheme_budget_p)
    # Budget the funding lines do not account for: the fold adds an Unallocated line for
    # an unknown split, so this is only non-zero when a registration's lines add up to
    # more than its budget (then it is negative).
    residual_p = spread.c.scheme_registered_p - spread.c.scheme_approved_p
    budget_p = case((scheme_row, residual_p), else_=spread.c.approved_p + spread.c.change_p)
    variance_p = scheme_forecast_p - scheme_budget_p
    variance_share = case(
        (
            spread.c.scheme_last_change.is_not(None),
            case(
                (
                    and_(~scheme_row, spread.c.last_change == spread.c.scheme_last_change),
                    variance_p,
                ),
                else_=0,
            ),
        ),
        # Nothing to share by: a zero budget's variance has no known source.
        (scheme_budget_p == 0, case((scheme_row, variance_p), else_=0)),
        else_=cast(variance_p, _FRACTION) * budget_p / scheme_budget_p,
    )
    return (
        select(
            spread.c.scheme_id,
            scheme_row.label("scheme_row"),
            case((scheme_row, literal(UNALLOCATED)), else_=spread.c.funding_source).label(
                "funding_source"
            ),
            case((scheme_row, residual_p), else_=spread.c.approved_p).label("approved_p"),
            spread.c.change_p,
            budget_p.label("budget_p"),
            variance_share.label("variance_share_p"),
            case((scheme_row, spread.c.scheme_registered_p)).label("scheme_registered_p"),
            case((scheme_row, spread.c.scheme_change_p)).label("scheme_change_p"),
            case((scheme_row, scheme_budget_p)).label("scheme_budget_p"),
            case((scheme_row, scheme_forecast_p)).label("scheme_forecast_p"),
        )
        .where(
            # Only schemes registered (and shown) at the date; forecast facts have done
            # their work once spread over their scheme's rows.
            spread.c.registered == 1,
            scheme_row | spread.c.funding_source.is_not(None),
        )
        # A CTE: the source rows and the total row read it, the database works it out once.
        .cte("allocation")
    )


def _pence(amount: ColumnElement[Any]) -> ColumnElement[int]:
    """Whole pence. SQLite stores NUMERIC as REAL; summing integers keeps totals exact."""
    return cast(func.round(amount * 100), BigInteger)


def _known(table: Any, scope: ReportScope) -> ColumnElement[bool]:
    """The rows of events in the position: occurred by `as_at`, recorded by `known_on`."""
    condition: ColumnElement[bool] = true()
    if scope.known_on is not None:
        condition = and_(condition, table.c.recorded_on <= scope.known_on)
    if scope.as_at is not None:
        condition = and_(condition, table.c.occurred_on <= scope.as_at)
    return condition


def _source_figures(
    scope: ReportScope, by_source: Sequence[Any], totals: tuple[Any, ...]
) -> BudgetBySource:
    # The total row: schemes, registered, changes, budget, (no share), forecast.
    schemes, registered_p, change_p, budget_p, _, forecast_p = (int(v or 0) for v in totals)
    held = [row for row in by_source if row[1] or any(row[2:5]) or _fraction(row[5])]
    variance_p = apportion({row[0]: _fraction(row[5]) for row in held}, total=forecast_p - budget_p)
    rows = tuple(
        sorted(
            (
                SourceFigures(
                    funding_source=source,
                    schemes=int(count),
                    approved_budget=_pounds(approved),
                    budget_changes=_pounds(changes),
                    budget=_pounds(budget),
                    forecast_outturn=_pounds(int(budget) + variance_p[source]),
                )
                for source, count, approved, changes, budget, _, _ in held
            ),
            key=lambda row: (row.funding_source == UNALLOCATED, row.funding_source.casefold()),
        )
    )
    total = SourceFigures(
        funding_source=TOTAL,
        schemes=schemes,
        approved_budget=_pounds(registered_p),
        budget_changes=_pounds(change_p),
        budget=_pounds(budget_p),
        forecast_outturn=_pounds(forecast_p),
    )
    _check_reconciles(rows, total)
    return BudgetBySource(scope=scope, rows=rows, total=total)


def apportion(shares: dict[str, Decimal], total: int) -> dict[str, int]:
    """Whole pence per key that add up to `total` exactly: each key gets the floor of its
    share, and the pence left over go one each to the largest remainders (ties by key)."""
    floors = {
        key: int(share.to_integral_value(rounding=ROUND_FLOOR)) for key, share in shares.items()
    }
    left_over = total - sum(floors.values())
    if not 0 <= left_over <= len(shares):
        raise ReconciliationError(
            f"pro rata shares add up to {sum(shares.values())} pence, not {total}"
        )
    by_remainder = sorted(shares, key=lambda key: (floors[key] - shares[key], key))
    for key in by_remainder[:left_over]:
        floors[key] += 1
    return floors


def _check_reconciles(rows: Sequence[SourceFigures], total: SourceFigures) -> None:
    for name in ("approved_budget", "budget_changes", "budget", "forecast_outturn"):
        summed = sum((getattr(row, name) for row in rows), Decimal(0))
        if summed != getattr(total, name):
            raise ReconciliationError(
                f"{name} by source adds up to {summed}, the schemes to {getattr(total, name)}"
            )


# Pro rata sums are compared at a ten-thousandth of a penny: SQLite's float sums differ
# from PostgreSQL's exact ones only far below it, so equal shares tie on both and the
# left-over penny goes to the same source.
_SHARE_QUANTUM = Decimal("0.0001")


def _fraction(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    return exact.quantize(_SHARE_QUANTUM)


def _pounds(pence: Any) -> Decimal:
    return Decimal(int(pence)).scaleb(-2)


# --- scheme states and histories ---------------------------------------------------------

# What the slippage report and the pack need from each scheme's history.
_HISTORY_TYPES = (
    EventType.scheme_registered,
    EventType.scheme_rebaselined,
    EventType.completion_revised,
    EventType.budget_changed,
    EventType.budget_transferred,
)


def report_states(session: Session, scope: ReportScope, judged_on: dt.date) -> list[SchemeState]:
    """Every scheme in the scope's position; a public report leaves out schemes of high
    public sensitivity."""
    states = scheme_states(session, scope.position(judged_on))
    if scope.public:
        hidden = hidden_from_public(session, scope)
        states = [s for s in states if s.scheme_id not in hidden]
    return sorted(states, key=lambda state: natural_key(state.scheme_id))


def hidden_from_public(session: Session, scope: ReportScope) -> set[str]:
    """The schemes a public report leaves out: those of high public sensitivity on the
    position's date by everything recorded now. A scheme amended to high sensitivity is
    hidden from every position on or after the day the amendment took effect, even one
    printed as known before the amendment was recorded."""
    histories = scheme_histories(session, types=_SENSITIVITY_TYPES)
    return {
        scheme_id
        for scheme_id, history in histories.items()
        if public_sensitivity_on(history, scope.as_at) is PublicSensitivity.high
    }


_SENSITIVITY_TYPES = (EventType.scheme_registered, EventType.scheme_amended)


def report_histories(session: Session, scope: ReportScope) -> dict[str, list[Envelope]]:
    """Registrations, rebaselines, completion revisions, budget changes and transfers per
    scheme, in the order they were applied."""
    return scheme_histories(session, scope.known_on, scope.as_at, _HISTORY_TYPES)


# --- programme ---------------------------------------------------------------------------


def programme_report(
    states: Iterable[SchemeState], scope: ReportScope, judged_on: dt.date, policy: RagPolicy
) -> ProgrammeReport:
    judged = [(state, snapshot(state, judged_on, policy)) for state in states]
    snapshots = [snap for _, snap in judged]
    programmes = sorted({state.programme or NO_PROGRAMME for state, _ in judged}, key=str.casefold)
    concerns = [
        SchemeConcern(
            scheme_id=state.scheme_id,
            title=state.title,
            programme=state.programme,
            status=state.status,
            programme_rag=snap.programme_rag,
            budget_rag=snap.budget_rag,
            overall_rag=snap.overall_rag,
            reasons=concern_reasons(snap),
        )
        for state, snap in judged
        if snap.overall_rag is not Rag.green
    ]
    return ProgrammeReport(
        scope=scope,
        judged_on=judged_on,
        schemes=len(judged),
        rag_totals=rag_totals(snapshots),
        by_status=tuple(
            RagBreakdown(
                status.value,
                count_rags(snap.overall_rag for snap in snapshots if snap.status is status),
            )
            for status in SchemeStatus
        ),
        by_programme=tuple(
            RagBreakdown(
                name,
                count_rags(
                    snap.overall_rag
                    for state, snap in judged
                    if (state.programme or NO_PROGRAMME) == name
                ),
            )
            for name in programmes
        ),
        concerns=tuple(
            sorted(concerns, key=lambda c: (c.overall_rag is not Rag.red, natural_key(c.scheme_id)))
        ),
    )


def count_rags(rags: Iterable[Rag]) -> RagCounts:
    counted = Counter(rags)
    return RagCounts(green=counted[Rag.green], amber=counted[Rag.amber], red=counted[Rag.red])


def rag_totals(snapshots: Sequence[SchemeSnapshot]) -> dict[str, RagCounts]:
    return {
        which: count_rags(getattr(snap, f"{which}_rag") for snap in snapshots)
        for which in RAG_KINDS
    }


def concern_reasons(snap: SchemeSnapshot) -> tuple[str, ...]:
    """Why a scheme is not green, in words a committee member can act on."""
    reasons: list[str] = []
    if snap.programme_rag is not Rag.green:
        reasons.extend(_programme_reasons(snap))
    if snap.budget_rag is not Rag.green:
        reasons.extend(_budget_reasons(snap))
    if "overall" in snap.overrides and snap.overall_rag is not Rag.green:
        reasons.append(_override_reason("Overall", snap.overall_rag, snap.overrides["overall"]))
    return tuple(reasons)


def _programme_reasons(snap: SchemeSnapshot) -> list[str]:
    if "programme" in snap.overrides:
        return [_override_reason("Programme", snap.programme_rag, snap.overrides["programme"])]
    reasons = []
    late = late_by(snap)
    if late is not None and snap.anticipated_completion is not None:
        expected, overdue = late
        reasons.append(
            f"Overdue by {overdue} days: anticipated completion {day(expected)} has passed"
        )
    if snap.slippage_days and snap.slippage_days > 0:
        if snap.actual_completion is not None:
            reasons.append(
                f"Completed {day(snap.actual_completion)}, {snap.slippage_days} days after "
                f"the baseline of {day(snap.baseline_completion)}"
            )
        else:
            reasons.append(
                f"Anticipated completion {day(snap.anticipated_completion)} is "
                f"{snap.slippage_days} days after the baseline of "
                f"{day(snap.baseline_completion)}"
            )
    return reasons


def _budget_reasons(snap: SchemeSnapshot) -> list[str]:
    if "budget" in snap.overrides:
        return [_override_reason("Budget", snap.budget_rag, snap.overrides["budget"])]
    if (overspend := over_budget(snap)) is None:
        return []
    over, _ = overspend
    share = percent(over, snap.budget)
    return [
        f"Forecast outturn {money(snap.forecast_outturn)} is {money(over)}"
        + (f" ({share})" if share else "")
        + f" over the budget of {money(snap.budget)}"
        + (f": {snap.forecast_reason}" if snap.forecast_reason else "")
    ]


def _override_reason(which: str, rag: Rag, reason: str) -> str:
    return f"{which} RAG set to {rag.value} by override: {reason}"


# --- slippage ----------------------------------------------------------------------------


def completion_revisions(history: Iterable[Envelope]) -> tuple[CompletionRevision, ...]:
    """The `completion.revised` events that moved a scheme's expected completion (its
    anticipated date, or its baseline before it had one). The first anticipated date of a
    scheme registered without a baseline becomes its baseline, so it is not a revision."""
    baseline: dt.date | None = None
    anticipated: dt.date | None = None
    revisions = []
    for event in history:
        body = event.payload
        if isinstance(body, p.SchemeRegistered | p.SchemeRebaselined):
            baseline = body.baseline_completion
        elif isinstance(body, p.CompletionRevised):
            expected = anticipated or baseline
            if expected is not None and body.anticipated_completion != expected:
                revisions.append(
                    CompletionRevision(
                        occurred_on=event.occurred_on,
                        recorded_on=event.recorded_on,
                        actor=event.actor,
                        previous=expected,
                        revised_to=body.anticipated_completion,
                        reason=body.reason,
                    )
                )
            anticipated = body.anticipated_completion
    return tuple(revisions)


def slippage_report(
    states: Iterable[SchemeState],
    histories: dict[str, list[Envelope]],
    scope: ReportScope,
    judged_on: dt.date,
    policy: RagPolicy,
) -> SlippageReport:
    rows = []
    for state in states:
        snap = snapshot(state, judged_on, policy)
        rows.append(
            SlippageRow(
                scheme_id=state.scheme_id,
                title=state.title,
                status=state.status,
                baseline_completion=state.baseline_completion,
                anticipated_completion=state.anticipated_completion,
                actual_completion=state.actual_completion,
                slippage_days=snap.slippage_days,
                overdue_days=days_overdue(state, judged_on),
                programme_rag=snap.programme_rag,
                revisions=completion_revisions(histories.get(state.scheme_id, [])),
            )
        )
    return SlippageReport(
        scope=scope, judged_on=judged_on, rows=tuple(sorted(rows, key=_worst_first))
    )


def _worst_first(row: SlippageRow) -> tuple[bool, int, tuple[Any, ...]]:
    days_late = row.days_late
    return (days_late is None, -(days_late or 0), natural_key(row.scheme_id))


# --- the committee highlight pack ---------------------------------------------------------


def budget_changes(history: Iterable[Envelope]) -> tuple[BudgetChange, ...]:
    """Budget changes and transfers in the order recorded; a transfer is a change on each
    of its two sources."""
    changes: list[BudgetChange] = []
    for event in history:
        body, on = event.payload, event.occurred_on
        if isinstance(body, p.BudgetChanged):
            changes.append(BudgetChange(on, body.funding_source, body.amount, body.reason))
        elif isinstance(body, p.BudgetTransferred):
            changes.append(
                BudgetChange(
                    on, body.from_source, -body.amount, f"to {body.to_source}: {body.reason}"
                )
            )
            changes.append(
                BudgetChange(
                    on, body.to_source, body.amount, f"from {body.from_source}: {body.reason}"
                )
            )
    return tuple(changes)


def scheme_card(
    state: SchemeState, history: Sequence[Envelope], snap: SchemeSnapshot
) -> SchemeCard:
    return SchemeCard(
        scheme_id=state.scheme_id,
        title=full_title(state.title, state.description),
        description=state.description,
        programme=state.programme,
        status=state.status,
        status_reason=state.status_reason,
        original_budget=state.original_budget,
        budget=state.budget,
        forecast_outturn=state.effective_forecast,
        forecast_reason=state.forecast_reason,
        funding=tuple(FundingApproval(f.source, f.amount, f.approved_on) for f in state.approvals),
        budget_changes=budget_changes(history),
        baseline_start=state.baseline_start,
        baseline_completion=state.baseline_completion,
        actual_start=state.actual_start,
        anticipated_completion=state.anticipated_completion,
        actual_completion=state.actual_completion,
        contractor=state.contractor,
        contract_length=state.contract_length,
        project_manager=state.project_manager,
        progress_note=state.progress_note,
        progress_on=state.progress_on,
        percent_complete=state.percent_complete,
        open_snags=len(state.open_snags),
        overdue_snags=tuple(
            OverdueSnag(s.snag_id, s.description, s.location, s.assignee, s.due_on)
            for s in state.overdue_snags(snap.evaluated_on)
            if s.due_on is not None
        ),
        slippage_days=snap.slippage_days,
        overdue=snap.overdue,
        programme_rag=snap.programme_rag,
        budget_rag=snap.budget_rag,
        public_sensitivity=state.public_sensitivity,
        overall_rag=snap.overall_rag,
        overrides=dict(snap.overrides),
        completion_revisions=len(completion_revisions(history)),
    )


def committee_pack(
    states: Iterable[SchemeState],
    histories: dict[str, list[Envelope]],
    funding: BudgetBySource,
    judged_on: dt.date,
    policy: RagPolicy,
    changes: ChangesReport | None = None,
) -> CommitteePack:
    judged = [(state, snapshot(state, judged_on, policy)) for state in states]
    return CommitteePack(
        scope=funding.scope,
        judged_on=judged_on,
        cards=tuple(
            scheme_card(state, histories.get(state.scheme_id, []), snap) for state, snap in judged
        ),
        budget_by_source=funding,
        rag_totals=rag_totals([snap for _, snap in judged]),
        changes=changes,
    )


# --- whole reports from the projection ----------------------------------------------------


def build_programme(
    session: Session, scope: ReportScope, judged_on: dt.date, policy: RagPolicy
) -> ProgrammeReport:
    return programme_report(report_states(session, scope, judged_on), scope, judged_on, policy)


def build_slippage(
    session: Session, scope: ReportScope, judged_on: dt.date, policy: RagPolicy
) -> SlippageReport:
    return slippage_report(
        report_states(session, scope, judged_on),
        report_histories(session, scope),
        scope,
        judged_on,
        policy,
    )


def build_pack(
    session: Session, scope: ReportScope, judged_on: dt.date, policy: RagPolicy
) -> CommitteePack:
    """The pack; with `scope.since` (the last committee) it has a page of the changes
    recorded since then up to the date its position is as known on."""
    until = scope.known_date or judged_on
    changes = (
        build_changes(session, scope.since, until, policy, scope.public)
        if scope.since is not None
        else None
    )
    return committee_pack(
        report_states(session, scope, judged_on),
        report_histories(session, scope),
        budget_by_source(session, scope),
        judged_on,
        policy,
        changes,
    )


def build_changes(
    session: Session, since: dt.date, until: dt.date, policy: RagPolicy, public: bool = False
) -> ChangesReport:
    """What was recorded after the end of `since` up to the end of `until`. A public
    report leaves out the schemes a public position on `until` leaves out."""
    check_period(since, until)
    histories = scheme_histories(session, until)
    if public:
        hidden = hidden_from_public(session, ReportScope.as_of(until, public=True))
        histories = {key: events for key, events in histories.items() if key not in hidden}
    return changes_between(histories, since, until, policy, public)


def build_report(
    kind: ReportKind, session: Session, scope: ReportScope, judged_on: dt.date, policy: RagPolicy
) -> Report:
    """Any report of a position by kind, as the command line and the portal ask for it.
    Budget by source has no RAG in it, so it ignores the judging date and policy. The
    changes report is between two positions: `build_changes`."""
    if kind is ReportKind.changes:
        raise ValueError("the changes report is between two dates: use build_changes")
    if kind is ReportKind.budget_by_source:
        return budget_by_source(session, scope)
    builders: dict[ReportKind, Callable[..., Report]] = {
        ReportKind.programme: build_programme,
        ReportKind.slippage: build_slippage,
        ReportKind.pack: build_pack,
    }
    return builders[kind](session, scope, judged_on, policy)
