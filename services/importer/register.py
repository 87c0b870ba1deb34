"""A council's scheme register becomes events: the pure mapping, row by row.

Each row describes one scheme as the register stands. It becomes the events that say the
same thing (`scheme.registered`, `scheme.started`, `completion.revised`,
`scheme.completed`, `progress.reported`, `forecast.revised`), with findings that say what
was used, what was assumed and why a row was refused. A refused row gives no events at all.

Event ids are derived from the facts each event carries (uuid5), so importing a register
again creates nothing new and a later register creates only events for what changed: a new
anticipated date is a new `completion.revised`; unchanged facts have the ids they had. For
a scheme the tracker already holds (`RecordedScheme`) the registration is never sent again:
a changed budget becomes `budget.changed` per funding source, a changed original
completion a `scheme.rebaselined`, and a fact the tracker has moved on from since it was
imported is left alone rather than reverted.

Pure: the standard library, pydantic and `events` only.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from events import Envelope, EventType, new_event
from events.codec import describe
from services.importer.columns import (
    UNKNOWN_HEADING,
    Field,
    RegisterRow,
    RegisterTable,
    cell_text,
    format_money,
)
from services.importer.facts import FundingFact, SchemeFacts, read_facts
from services.importer.findings import Finding, Kind, Severity

IMPORT_NAMESPACE = uuid.UUID("3b9e8a52-61c4-4f0e-9d6b-0c7a1e2f5d83")
"""Fixed for good: every imported event id derives from it, so changing it would make a
re-import duplicate every scheme's history."""

UNALLOCATED = "Unallocated"
"""The funding source the fold holds an unexplained remainder under
(`programme.scheme.UNALLOCATED`; a test keeps the two equal)."""

COMPLETION_REASON = "Anticipated completion date in the scheme register"
BASELINE_REASON = "Original completion date in the scheme register"
FORECAST_REASON = "Forecast outturn in the scheme register"

DETAIL_FIELDS = (
    "title",
    "description",
    "contractor",
    "contract_length",
    "baseline_start",
    "project_manager",
    "programme",
    "public_sensitivity",
)
"""Registered details no event can change: a later register that differs is reported."""


@dataclass(frozen=True)
class RecordedScheme:
    """What the tracker already holds for a scheme, so a later register adds only what
    changed and never reverts what was logged since."""

    event_ids: frozenset[uuid.UUID]
    budget_by_source: Mapping[str, Decimal]
    baseline_completion: dt.date | None
    actual_start: dt.date | None
    anticipated_completion: dt.date | None
    actual_completion: dt.date | None
    forecast_outturn: Decimal
    progress_note: str | None
    details: Mapping[str, Any]
    """The registered `DETAIL_FIELDS` as the tracker holds them (dates as dates)."""


@dataclass(frozen=True)
class RowPlan:
    row: int
    scheme_id: str | None
    events: tuple[Envelope, ...] = ()
    findings: tuple[Finding, ...] = ()
    known: bool = False
    """The tracker already held this scheme before the import."""
    skipped: bool = False

    @property
    def refused(self) -> bool:
        return any(f.severity is Severity.error for f in self.findings)

    @property
    def outcome(self) -> str:
        if self.refused:
            return "refused"
        if self.skipped:
            return "skipped"
        if not self.events:
            return "unchanged"
        return "updated" if self.known else "new"

    def refuse(self, kind: Kind, message: str) -> RowPlan:
        """This row with nothing to send: refused rows contribute no events."""
        finding = Finding.error(kind, message)
        return replace(self, events=(), findings=(*self.findings, finding))


@dataclass(frozen=True)
class ImportPlan:
    source: str
    recorded_on: dt.date
    rows: tuple[RowPlan, ...]
    findings: tuple[Finding, ...] = ()
    """About the file as a whole (columns)."""

    @property
    def refused(self) -> bool:
        """Anything refused: the import's exit status says so."""
        return any(f.severity is Severity.error for f in self.all_findings())

    def all_findings(self) -> list[Finding]:
        return [*self.findings, *(f for row in self.rows for f in row.findings)]

    def numbered_events(self) -> list[tuple[int, Envelope]]:
        """Every event to send, numbered by its spreadsheet row, in register order."""
        return [(row.row, event) for row in self.rows for event in row.events]

    def outcomes(self) -> Counter[str]:
        return Counter(row.outcome for row in self.rows)

    def counts(self, severity: Severity) -> Counter[Kind]:
        return Counter(f.kind for f in self.all_findings() if f.severity == severity)

    def with_rows(self, rows: list[RowPlan]) -> ImportPlan:
        return replace(self, rows=tuple(rows))


def plan_import(
    table: RegisterTable,
    recorded_on: dt.date,
    recorded_at: dt.datetime,
    recorded: Mapping[str, RecordedScheme] | None = None,
) -> ImportPlan:
    """The events each row of `table` gives, as of `recorded_on` (the register's date:
    actual dates after it are not facts yet), given what the tracker already holds."""
    recorded = recorded or {}
    findings = [
        Finding.note(Kind.unused_column, f"column {heading!r} not imported: {why}")
        for heading, why in table.unused_headings
    ]
    missing = _missing_columns(table)
    if missing:
        findings.insert(0, Finding.error(Kind.missing_columns, missing))
        return ImportPlan(table.source, recorded_on, (), tuple(findings))
    when = _When(recorded_on, recorded_at)
    first_row_of: dict[str, RegisterRow] = {}
    plans = tuple(_plan_row(table, row, when, recorded, first_row_of) for row in table.rows)
    return ImportPlan(table.source, recorded_on, plans, tuple(findings))


def _missing_columns(table: RegisterTable) -> str | None:
    if table.header_row is None:
        return "the file has no rows"
    wanted = {
        Field.ref: "the scheme reference ('Ref')",
        Field.budget: "the budget ('Budget')",
    }
    missing = [what for f, what in wanted.items() if f not in table.columns]
    if Field.description not in table.columns and Field.title not in table.columns:
        missing.append("the scheme description ('Scheme Description' or 'Title')")
    if not missing:
        return None
    unknown = [heading for heading, why in table.unused_headings if why == UNKNOWN_HEADING]
    shown = ", ".join(repr(_shorten(heading, 40)) for heading in unknown[:6])
    more = f" and {len(unknown) - 6} more" if len(unknown) > 6 else ""
    not_known = f" (headings not recognised: {shown}{more})" if unknown else ""
    return (
        f"no column for {', '.join(missing)} in the headings on row {table.header_row}"
        f"{not_known}: see docs/importing.md for the headings the importer knows"
    )


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass(frozen=True)
class _When:
    recorded_on: dt.date
    recorded_at: dt.datetime


def _plan_row(
    table: RegisterTable,
    row: RegisterRow,
    when: _When,
    recorded: Mapping[str, RecordedScheme],
    first_row_of: dict[str, RegisterRow],
) -> RowPlan:
    ref = cell_text(row.get(Field.ref))
    if ref is None and _looks_like_totals(row):
        note = Finding.note(Kind.totals_row, "a totals row: skipped")
        return RowPlan(row.number, None, findings=(note,), skipped=True)
    if ref is not None and ref in first_row_of:
        first = first_row_of[ref]
        if first.values == row.values:
            repeat = Finding.warning(
                Kind.repeated_row, f"repeats row {first.number} exactly: skipped"
            )
            return RowPlan(row.number, ref, findings=(repeat,), skipped=True)
        return RowPlan(row.number, ref).refuse(
            Kind.duplicate_reference,
            f"{table.heading(Field.ref)} {ref} is also on row {first.number}, with other "
            "details: each scheme needs its own reference",
        )
    if ref is not None:
        first_row_of[ref] = row
    facts, reading = read_facts(table, row, when.recorded_on)
    if facts is None:
        return RowPlan(row.number, ref, findings=tuple(reading))
    known = recorded.get(facts.scheme_id)
    planner = _EventPlanner(facts, known, when, table)
    planner.plan()
    plan = RowPlan(
        row.number,
        facts.scheme_id,
        tuple(planner.events),
        (*reading, *planner.findings),
        known=known is not None,
    )
    return replace(plan, events=()) if plan.refused else plan


_TOTALS = re.compile(r"^(grand\s+|sub\s*-?\s*)?totals?(\s+\S+){0,3}:?$", re.IGNORECASE)


def _looks_like_totals(row: RegisterRow) -> bool:
    """'Total', 'Grand Total', 'Total CYPE programme:' under a blank reference: a sum, not a
    scheme. A description that merely starts with the word is a scheme missing its ref."""
    return any(_TOTALS.match(cell_text(cell) or "") for cell in row.values.values())


# --- a row's events -------------------------------------------------------------------


@dataclass
class _EventPlanner:
    """The events for one scheme's facts, given what the tracker holds (None: a new one)."""

    facts: SchemeFacts
    recorded: RecordedScheme | None
    when: _When
    table: RegisterTable
    events: list[Envelope] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def plan(self) -> None:
        facts = self.facts
        self.registration()
        if facts.actual_start is not None:
            self.start(facts.actual_start)
        anticipated = facts.anticipated_completion or self.assumed_anticipated()
        if anticipated is not None:
            self.offer(
                self.event(
                    EventType.completion_revised,
                    self.when.recorded_on,
                    {"anticipated_completion": anticipated, "reason": COMPLETION_REASON},
                ),
                anticipated,
                self.recorded and self.recorded.anticipated_completion,
                self.heading(Field.anticipated_completion),
            )
        if facts.actual_completion is not None:
            self.offer(
                self.event(
                    EventType.scheme_completed, facts.actual_completion, {}, register_dated=True
                ),
                facts.actual_completion,
                self.recorded and self.recorded.actual_completion,
                self.heading(Field.actual_completion),
            )
        if facts.progress is not None:
            self.offer(
                self.event(
                    EventType.progress_reported, self.when.recorded_on, {"note": facts.progress}
                ),
                facts.progress,
                self.recorded and self.recorded.progress_note,
                self.heading(Field.progress_update),
                quote=False,
            )
        if facts.forecast_outturn is not None:
            self.offer(
                self.event(
                    EventType.forecast_revised,
                    self.when.recorded_on,
                    {"forecast_outturn": facts.forecast_outturn, "reason": FORECAST_REASON},
                ),
                facts.forecast_outturn,
                self.recorded and self.recorded.forecast_outturn,
                self.heading(Field.forecast_outturn),
            )

    def heading(self, field: Field) -> str:
        return self.table.heading(field)

    def warn(self, kind: Kind, message: str) -> None:
        self.findings.append(Finding.warning(kind, message))

    # -- registration

    def registration(self) -> None:
        funding, funding_findings = self.funding_lines()
        payload = self.registration_payload(funding)
        registered_on, register_dated = self.registered_on()
        registered = self.event(
            EventType.scheme_registered, registered_on, payload, register_dated=register_dated
        )
        # What was assumed about the funding matters only when the registration is used:
        # an unchanged row repeating it on every import would be noise.
        if self.recorded is None:
            self.emit(registered)
            self.findings.extend(funding_findings)
            self.baseline_findings()
        elif registered is not None and registered.event_id not in self.recorded.event_ids:
            # The register describes the scheme differently from any registration imported
            # before: carry over what events can change, report what they cannot.
            self.findings.extend(funding_findings)
            self.budget_changes(funding)
            self.rebaseline()
            self.detail_differences(payload)

    def registered_on(self) -> tuple[dt.date, bool]:
        """When the scheme came into being: its approval or planned start, whichever is
        first, else its actual start, else the register's date; and whether the register
        said so (then the date is part of the fact)."""
        facts = self.facts
        planned = [d for d in (facts.funding_approved, facts.original_start) if d is not None]
        if planned:
            return min(planned), True
        if facts.actual_start is not None:
            return facts.actual_start, True
        return self.when.recorded_on, False

    def registration_payload(self, funding: list[dict[str, Any]]) -> dict[str, Any]:
        facts = self.facts
        payload: dict[str, Any] = {
            "title": facts.title,
            "budget": facts.budget,
            "funding": funding,
            "baseline_start": facts.original_start,
            "baseline_completion": facts.original_completion,
            "contractor": facts.contractor,
            "contract_length": facts.contract_length,
            "project_manager": facts.project_manager,
            "public_sensitivity": facts.public_sensitivity,
            "description": facts.description,
            "programme": facts.programme,
        }
        return {key: value for key, value in payload.items() if value is not None}

    def funding_lines(self) -> tuple[list[dict[str, Any]], list[Finding]]:
        """The funding lines to register, and findings on what they leave of the budget
        (which the fold holds as Unallocated)."""
        facts = self.facts
        named = facts.funding
        if len(named) == 1 and named[0].amount is None:
            # One source and no amount: that source pays for the whole budget.
            named = (FundingFact(named[0].source, facts.budget),)
        unknown = [line.source for line in named if line.amount is None]
        lines = [
            {"source": line.source, "amount": line.amount or Decimal(0)}
            | ({"approved_on": facts.funding_approved} if facts.funding_approved else {})
            for line in named
        ]
        known_total = sum((line.amount or Decimal(0) for line in named), Decimal(0))
        remainder = facts.budget - known_total
        heading, budget = self.heading(Field.funding), format_money(facts.budget)
        if not named:
            finding = Finding.warning(
                Kind.funding_unallocated,
                f"no {heading}: the budget of {budget} is held as {UNALLOCATED}",
            )
        elif unknown and remainder > 0:
            finding = Finding.warning(
                Kind.funding_unallocated,
                f"{heading} does not say how {format_money(remainder)} splits between "
                f"{_and_list(unknown)}: held as {UNALLOCATED}",
            )
        elif remainder > 0:
            finding = Finding.warning(
                Kind.funding_mismatch,
                f"funding lines add up to {format_money(known_total)}, "
                f"{format_money(remainder)} less than the budget of {budget}: the difference "
                f"is held as {UNALLOCATED}",
            )
        elif remainder < 0:
            finding = Finding.warning(
                Kind.funding_mismatch,
                f"funding lines add up to {format_money(known_total)}, "
                f"{format_money(-remainder)} more than the budget of {budget}: the budget is "
                "kept",
            )
        else:
            return lines, []
        return lines, [finding]

    def baseline_findings(self) -> None:
        facts = self.facts
        if facts.original_completion is not None:
            return
        if facts.anticipated_completion is not None:
            self.warn(
                Kind.baseline_from_anticipated,
                f"no {self.heading(Field.original_completion)}: the "
                f"{self.heading(Field.anticipated_completion)} {facts.anticipated_completion} "
                "becomes the baseline, so slippage is measured from it",
            )
        else:
            self.warn(
                Kind.no_baseline,
                f"no {self.heading(Field.original_completion)} and no "
                f"{self.heading(Field.anticipated_completion)}: slippage cannot be measured",
            )

    def assumed_anticipated(self) -> dt.date | None:
        """A new scheme with a planned completion and neither an anticipated nor an actual
        one has not moved: its anticipated date is the original, stated as a register
        states it (the board shows it as the baseline, as for a scheme never revised)."""
        facts = self.facts
        if (
            self.recorded is not None
            or facts.actual_completion is not None
            or facts.original_completion is None
        ):
            return None
        self.warn(
            Kind.anticipated_from_original,
            f"no {self.heading(Field.anticipated_completion)}: the "
            f"{self.heading(Field.original_completion)} {facts.original_completion} is assumed",
        )
        return facts.original_completion

    def budget_changes(self, funding: list[dict[str, Any]]) -> None:
        """Bring each funding source to the register's figure with a `budget.changed`."""
        assert self.recorded is not None
        wanted: dict[str, Decimal] = {}
        for line in funding:
            wanted[line["source"]] = wanted.get(line["source"], Decimal(0)) + line["amount"]
        remainder = self.facts.budget - sum(wanted.values(), Decimal(0))
        if remainder > 0:
            wanted[UNALLOCATED] = wanted.get(UNALLOCATED, Decimal(0)) + remainder
        held = self.recorded.budget_by_source
        for source in [*wanted, *(s for s in held if s not in wanted)]:
            target, current = wanted.get(source, Decimal(0)), held.get(source, Decimal(0))
            if target == current:
                continue
            change = self.event(
                EventType.budget_changed,
                self.when.recorded_on,
                {
                    "funding_source": source,
                    "amount": target - current,
                    "reason": f"Scheme register: {source} funding changed from "
                    f"{format_money(current)} to {format_money(target)}",
                },
                # The fact is the source's new figure; the change depends on what the
                # tracker held, so it must not make the id (or a re-import would revert
                # a budget change logged since).
                identity={"funding_source": source, "amount": str(target)},
            )
            self.offer(change, target, current, f"{source} funding")

    def rebaseline(self) -> None:
        assert self.recorded is not None
        baseline = self.facts.original_completion
        if baseline is None:
            return
        self.offer(
            self.event(
                EventType.scheme_rebaselined,
                self.when.recorded_on,
                {"baseline_completion": baseline, "reason": BASELINE_REASON},
            ),
            baseline,
            self.recorded.baseline_completion,
            self.heading(Field.original_completion),
        )

    def detail_differences(self, payload: dict[str, Any]) -> None:
        assert self.recorded is not None
        held = self.recorded.details
        differing = [
            f"{name.replace('_', ' ')} {payload[name]!s:.40} (tracker: {held.get(name)!s:.40})"
            for name in DETAIL_FIELDS
            if name in payload and payload[name] != held.get(name)
        ]
        if differing:
            self.warn(
                Kind.details_not_updated,
                f"registered details differ from the tracker's, and no event changes them: "
                f"{'; '.join(differing)}",
            )

    # -- dated facts

    def start(self, actual_start: dt.date) -> None:
        held = self.recorded.actual_start if self.recorded else None
        if held is None:
            self.emit(self.event(EventType.scheme_started, actual_start, {}, register_dated=True))
        elif held != actual_start:
            self.warn(
                Kind.start_differs,
                f"{self.heading(Field.actual_start)} {actual_start} differs from {held}, the "
                "actual start the tracker holds: not changed",
            )

    def offer(
        self,
        event: Envelope | None,
        register_value: object,
        held_value: object,
        what: str,
        quote: bool = True,
    ) -> None:
        """Send `event` unless the tracker already says the same, or had this very fact
        imported before and has moved on since (an older register must not revert it)."""
        if event is None:
            return
        if self.recorded is None:
            self.emit(event)
        elif register_value == held_value:
            return
        elif event.event_id in self.recorded.event_ids:
            said = f"{what} {register_value}" if quote else f"this {what}"
            self.warn(
                Kind.older_value,
                f"{said} was imported before and the tracker has had a later one since: "
                "left as it is (log the change if the register is right)",
            )
        else:
            self.emit(event)

    def emit(self, event: Envelope | None) -> None:
        if event is not None:
            self.events.append(event)

    def event(
        self,
        event_type: EventType,
        occurred_on: dt.date,
        payload: dict[str, Any],
        *,
        register_dated: bool = False,
        identity: dict[str, Any] | None = None,
    ) -> Envelope | None:
        """The event with its content-derived id; None (and a refusal) if the contract
        does not accept it. `register_dated`: the date comes from the register, so it is
        part of the fact; otherwise it is the import's date and is not."""
        try:
            envelope = new_event(
                event_type,
                self.facts.scheme_id,
                occurred_on,
                payload,
                recorded_at=self.when.recorded_at,
                event_id=uuid.UUID(int=0),
            )
        except ValidationError as error:
            self.findings.append(
                Finding(
                    Severity.error, Kind.invalid_event, f"{event_type.value}: {describe(error)}"
                )
            )
            return None
        facts = identity or envelope.payload.model_dump(mode="json", exclude_defaults=True)
        dated = envelope.occurred_on.isoformat() if register_dated else None
        event_id = content_event_id(envelope.scheme_id, event_type, dated, facts)
        return envelope.model_copy(update={"event_id": event_id})


def content_event_id(
    scheme_id: str, event_type: EventType, occurred_on: str | None, facts: Mapping[str, Any]
) -> uuid.UUID:
    """The same facts always give the same id; any changed fact gives a new one."""
    key = json.dumps(
        [scheme_id, event_type.value, occurred_on, facts],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return uuid.uuid5(IMPORT_NAMESPACE, key)


def _and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
