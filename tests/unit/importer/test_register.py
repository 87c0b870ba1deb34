"""A register row becomes the events that describe its scheme, with what was used, assumed
and refused; ids derive from content so importing again adds only what changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from capital.application.importing import recorded_scheme
from events import Envelope, EventType
from programme import rag
from programme import scheme as fold_rules
from services.importer import ImportPlan, Kind, RecordedScheme, RowPlan, Severity
from services.importer.facts import short_title
from services.importer.register import UNALLOCATED
from tests.builders import registered
from tests.unit.importer.registers import GOOD_ROW, PACK_HEADINGS, plan, row


def only_row(result: ImportPlan) -> RowPlan:
    assert len(result.rows) == 1
    return result.rows[0]


def by_type(row_plan: RowPlan) -> dict[EventType, Envelope]:
    return {event.type: event for event in row_plan.events}


def kinds(row_plan: RowPlan, severity: Severity) -> list[Kind]:
    return [f.kind for f in row_plan.findings if f.severity is severity]


def message(row_plan: RowPlan, kind: Kind) -> str:
    return next(f.message for f in row_plan.findings if f.kind is kind)


def recorded_after(*imports: ImportPlan) -> dict[str, RecordedScheme]:
    """What the tracker would hold after applying `imports` in turn: the real fold."""
    history: dict[str, list[Envelope]] = {}
    for result in imports:
        for row_plan in result.rows:
            history.setdefault(row_plan.scheme_id, []).extend(row_plan.events)
    return {
        scheme_id: recorded_scheme(fold_rules.fold(events), frozenset(e.event_id for e in events))
        for scheme_id, events in history.items()
    }


# --- a good row -----------------------------------------------------------------------


def test_a_good_row_becomes_the_events_that_describe_its_scheme():
    scheme = only_row(plan(row()))
    assert scheme.outcome == "new"
    assert [e.type for e in scheme.events] == [
        EventType.scheme_registered,
        EventType.scheme_started,
        EventType.completion_revised,
        EventType.progress_reported,
    ]
    events = by_type(scheme)
    registered = events[EventType.scheme_registered].payload.model_dump()
    assert registered["budget"] == Decimal("99000")
    assert registered["funding"] == [
        {"source": "CCIP6", "amount": Decimal("99000"), "approved_on": dt.date(2022, 6, 1)}
    ]
    assert registered["baseline_start"] == dt.date(2022, 7, 11)
    assert registered["baseline_completion"] == dt.date(2022, 10, 28)
    assert registered["contractor"] == "Oliveti Construction Ltd"
    assert registered["contract_length"] == "4 months"
    assert registered["description"] == GOOD_ROW["description"]
    assert events[EventType.scheme_started].occurred_on == dt.date(2022, 7, 11)
    revised = events[EventType.completion_revised].payload.model_dump()
    assert revised["anticipated_completion"] == dt.date(2023, 1, 6)
    assert events[EventType.progress_reported].payload.model_dump()["note"] == (
        "Phase 2 Ramp & Handrails now 100% complete."
    )
    assert all(e.recorded_at == dt.datetime(2024, 7, 29, 12, tzinfo=dt.UTC) for e in scheme.events)
    assert scheme.findings == ()


def test_an_actual_completion_becomes_scheme_completed_on_that_day():
    scheme = only_row(plan(row(anticipated_completion="", actual_completion="24/10/2022")))
    completed = by_type(scheme)[EventType.scheme_completed]
    assert completed.occurred_on == dt.date(2022, 10, 24)
    assert EventType.completion_revised not in by_type(scheme)


def test_the_registration_is_dated_by_approval_or_planned_start_whichever_is_first():
    scheme = only_row(plan(row(funding_approved="2022-06", original_start="11/07/2022")))
    assert by_type(scheme)[EventType.scheme_registered].occurred_on == dt.date(2022, 6, 1)


def test_a_long_description_gives_a_short_title_and_is_kept_whole():
    description = (
        "Alteration works of 2 classrooms, along with alterations to existing toilets to "
        "accommodate sensory room, accessible WC & changing facilities."
    )
    registered = by_type(only_row(plan(row(description=description))))[
        EventType.scheme_registered
    ].payload.model_dump()
    assert registered["title"] == "Alteration works of 2 classrooms, along with alterations…"
    assert len(registered["title"]) <= 60
    assert registered["description"] == description
    assert short_title("Playground resurface and new play equipment.") == (
        "Playground resurface and new play equipment"
    )


# --- refused rows ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "kind", "says"),
    [
        ({"ref": ""}, Kind.missing_value, "no Ref: every scheme needs one"),
        ({"ref": "CYPE 018"}, Kind.bad_reference, "Ref 'CYPE 018' is not usable"),
        ({"description": " "}, Kind.missing_value, "no scheme description"),
        ({"budget": ""}, Kind.missing_value, "no Budget: every scheme needs one"),
        ({"budget": "TBC"}, Kind.missing_value, "no Budget"),
        ({"budget": "ninety thousand"}, Kind.bad_money, "Budget: 'ninety thousand' is not an "),
        ({"budget": "-£5,000"}, Kind.bad_money, "Budget -£5,000 is negative"),
        ({"actual_start": "31/02/2022"}, Kind.bad_date, "Actual Start Date: '31/02/2022' is not"),
        (
            {"original_completion": "01/07/2022"},
            Kind.dates_out_of_order,
            "Original Completion Date 2022-07-01 is before the Original Start Date 2022-07-11",
        ),
        (
            {"anticipated_completion": "01/07/2022"},
            Kind.dates_out_of_order,
            "Anti. Completion Date 2022-07-01 is before the Actual Start Date 2022-07-11",
        ),
        (
            {"actual_completion": "01/07/2022", "anticipated_completion": ""},
            Kind.dates_out_of_order,
            "Completion Date 2022-07-01 is before the Actual Start Date 2022-07-11",
        ),
        ({"funding": ":99000"}, Kind.bad_funding, "Funding Source: ':99000' names no source"),
        ({"funding": "CCIP6:lots"}, Kind.bad_funding, "Funding Source CCIP6: 'lots' is not an"),
        ({"budget": "£99000000000000000"}, Kind.bad_money, "'£99000000000000000' is more money"),
        ({"budget": "1,2"}, Kind.bad_money, "'1,2' is ambiguous"),
    ],
)
def test_each_kind_of_bad_row_is_refused_with_a_message_naming_the_column(changes, kind, says):
    result = plan(row(**changes))
    scheme = only_row(result)
    assert scheme.outcome == "refused"
    assert scheme.events == ()
    assert kind in kinds(scheme, Severity.error)
    assert says in message(scheme, kind)
    assert result.refused
    assert result.numbered_events() == []


def test_a_refused_row_does_not_stop_the_good_rows():
    result = plan(row(ref="CYPE-001"), row(ref="CYPE-002", budget="lots"), row(ref="CYPE-003"))
    assert [r.outcome for r in result.rows] == ["new", "refused", "new"]
    assert {number for number, _ in result.numbered_events()} == {2, 4}


def test_a_reference_used_twice_with_other_details_refuses_the_later_row():
    result = plan(row(), row(budget="£120,000"))
    first, second = result.rows
    assert first.outcome == "new"
    assert second.outcome == "refused"
    assert message(second, Kind.duplicate_reference) == (
        "Ref CYPE-018 is also on row 2, with other details: each scheme needs its own reference"
    )


def test_a_register_without_the_required_columns_is_refused_as_a_whole():
    headings = {"ref": "Scheme", "contractor": "Contractor", "progress_update": "Notes"}
    result = plan(row(), headings=headings)
    assert result.refused
    assert result.rows == ()
    assert result.findings[0].kind is Kind.missing_columns
    assert "no column for the scheme reference ('Ref'), the budget ('Budget')" in (
        result.findings[0].message
    )
    assert "headings not recognised" not in result.findings[0].message  # all were known


def test_a_missing_column_names_the_headings_the_importer_did_not_recognise():
    headings = {**PACK_HEADINGS, "budget": "Cost (£)", "contractor": "Builder"}
    (finding,) = plan(row(), headings=headings).findings[:1]
    assert finding.message == (
        "no column for the budget ('Budget') in the headings on row 1 (headings not "
        "recognised: 'Cost (£)', 'Builder'): see docs/importing.md for the headings the "
        "importer knows"
    )


# --- assumed, or not used: the row is still imported -----------------------------------


def test_without_an_original_completion_the_anticipated_date_becomes_the_baseline():
    scheme = only_row(plan(row(original_completion="")))
    assert scheme.outcome == "new"
    assert message(scheme, Kind.baseline_from_anticipated) == (
        "no Original Completion Date: the Anti. Completion Date 2023-01-06 becomes the "
        "baseline, so slippage is measured from it"
    )
    state = fold_rules.fold(list(scheme.events))
    assert state.baseline_completion == dt.date(2023, 1, 6)


def test_a_complete_scheme_with_no_completion_dates_to_compare_cannot_measure_slippage():
    scheme = only_row(
        plan(row(original_completion="", anticipated_completion="", actual_completion="1/9/2022"))
    )
    assert kinds(scheme, Severity.warning) == [Kind.no_baseline]
    assert EventType.scheme_completed in by_type(scheme)


def test_without_an_anticipated_or_actual_completion_the_original_date_is_assumed():
    scheme = only_row(plan(row(anticipated_completion="")))
    assert kinds(scheme, Severity.warning) == [Kind.anticipated_from_original]
    revised = by_type(scheme)[EventType.completion_revised].payload.model_dump()
    assert revised["anticipated_completion"] == dt.date(2022, 10, 28)


def test_a_scheme_never_revised_reads_the_same_from_any_register_row_as_from_events():
    """No anticipated date, one equal to the original, no original date: each is a scheme
    expected on its baseline, as one registered by events and never revised is."""
    judged_on = dt.date(2024, 7, 29)

    def as_read(events: list[Envelope]) -> tuple[object, ...]:
        judged = rag.snapshot(fold_rules.fold(events), judged_on, rag.RagPolicy())
        return (
            judged.expected_completion,
            judged.expected_is_baseline,
            judged.slippage_days,
            judged.days_overdue,
            judged.concerns(),
        )

    never_revised = (dt.date(2022, 10, 28), True, 0, 640, ["overdue by 640 days"])
    for changes in (
        {"anticipated_completion": ""},
        {"anticipated_completion": "28/10/2022"},
        {"original_completion": "", "anticipated_completion": "28/10/2022"},
    ):
        assert as_read(list(only_row(plan(row(**changes))).events)) == never_revised, changes
    from_events = registered("CYPE-018", on="2022-06-01", baseline_completion="2022-10-28")
    assert as_read([from_events]) == never_revised


def test_sources_without_amounts_keep_their_names_and_the_budget_is_held_unallocated():
    scheme = only_row(plan(row(budget="450000", funding="Salix:;Children's Capital:")))
    assert message(scheme, Kind.funding_unallocated) == (
        "Funding Source does not say how £450,000 splits between Salix and Children's "
        "Capital: held as Unallocated"
    )
    state = fold_rules.fold(list(scheme.events))
    assert state.budget_by_source() == {
        "Salix": Decimal(0),
        "Children's Capital": Decimal(0),
        UNALLOCATED: Decimal(450000),
    }


def test_one_source_without_an_amount_funds_the_whole_budget():
    scheme = only_row(plan(row(funding="Policy Provision")))
    assert scheme.findings == ()
    state = fold_rules.fold(list(scheme.events))
    assert state.budget_by_source() == {"Policy Provision": Decimal(99000)}


@pytest.mark.parametrize(
    ("funding", "kind", "says", "by_source"),
    [
        ("", Kind.funding_unallocated, "no Funding Source: the budget of £99,000 is held as "
         "Unallocated", {UNALLOCATED: 99000}),
        ("CCIP6:80000", Kind.funding_mismatch, "funding lines add up to £80,000, £19,000 less "
         "than the budget of £99,000: the difference is held as Unallocated",
         {"CCIP6": 80000, UNALLOCATED: 19000}),
        ("CCIP6:80000; School Funded £30k", Kind.funding_mismatch, "funding lines add up to "
         "£110,000, £11,000 more than the budget of £99,000: the budget is kept",
         {"CCIP6": 80000, "School Funded": 30000}),
    ],
)  # fmt: skip
def test_funding_that_does_not_add_up_to_the_budget_is_reported(funding, kind, says, by_source):
    scheme = only_row(plan(row(funding=funding)))
    assert message(scheme, kind) == says
    state = fold_rules.fold(list(scheme.events))
    assert state.budget_by_source() == {k: Decimal(v) for k, v in by_source.items()}


def test_the_importer_holds_the_remainder_under_the_same_name_as_the_fold():
    assert UNALLOCATED == fold_rules.UNALLOCATED


def test_actual_dates_after_the_register_date_are_not_used():
    in_progress = row(
        original_start="01/06/2024",
        original_completion="30/09/2024",
        actual_start="01/07/2024",
        anticipated_completion="",
        actual_completion="30/08/2024",
    )
    scheme = only_row(plan(in_progress, recorded_on=dt.date(2024, 7, 29)))
    assert message(scheme, Kind.future_date) == (
        "Completion Date 2024-08-30 is after 2024-07-29, the date this register is recorded "
        "on: not used"
    )
    assert EventType.scheme_completed not in by_type(scheme)
    assert by_type(scheme)[EventType.scheme_started].occurred_on == dt.date(2024, 7, 1)
    # Not complete after all, so its planned completion stands as the anticipated one.
    assert Kind.anticipated_from_original in kinds(scheme, Severity.warning)


def test_a_row_repeated_exactly_is_skipped_with_a_warning():
    result = plan(row(), row())
    assert [r.outcome for r in result.rows] == ["new", "skipped"]
    assert message(result.rows[1], Kind.repeated_row) == "repeats row 2 exactly: skipped"
    assert not result.refused


def test_notes_say_how_cells_were_read_without_counting_as_warnings():
    result = plan(
        row(anticipated_completion="Mar-23", actual_completion="TBC"),
        row(ref="", description="Total", budget="£1m"),
    )
    scheme, totals = result.rows
    assert message(scheme, Kind.month_only_date) == (
        "Anti. Completion Date 'Mar-23' gives only a month: read as 2023-03-31 (the last day)"
    )
    assert message(scheme, Kind.placeholder) == "Completion Date 'TBC' read as not given"
    assert totals.outcome == "skipped"
    assert totals.findings[0].kind is Kind.totals_row
    assert result.counts(Severity.warning) == {}


def test_a_row_without_a_reference_is_refused_even_if_its_description_starts_with_total():
    scheme = only_row(plan(row(ref="", description="Total refurbishment of the kitchen block")))
    assert scheme.outcome == "refused"
    assert kinds(scheme, Severity.error) == [Kind.missing_value]


# --- ids from content ----------------------------------------------------------------


def ids(result: ImportPlan) -> dict[EventType, str]:
    return {e.type: str(e.event_id) for e in only_row(result).events}


def test_the_same_row_always_gives_the_same_event_ids():
    assert ids(plan(row())) == ids(plan(row()))
    assert ids(plan(row())) == ids(plan(row(), recorded_on=dt.date(2024, 8, 30)))


def test_a_changed_progress_note_changes_only_the_progress_event():
    before, after = ids(plan(row())), ids(plan(row(progress_update="Snagging complete.")))
    assert before[EventType.progress_reported] != after[EventType.progress_reported]
    for kind in (
        EventType.scheme_registered,
        EventType.scheme_started,
        EventType.completion_revised,
    ):
        assert before[kind] == after[kind]


def test_a_new_anticipated_date_changes_only_the_completion_revised_event():
    before = ids(plan(row()))
    after = ids(plan(row(anticipated_completion="10/02/2023")))
    assert before[EventType.completion_revised] != after[EventType.completion_revised]
    assert {k: v for k, v in before.items() if k is not EventType.completion_revised} == {
        k: v for k, v in after.items() if k is not EventType.completion_revised
    }


# --- a later register against what the tracker holds ---------------------------------


def test_importing_against_what_the_tracker_holds_reports_rows_unchanged():
    first = plan(row())
    again = only_row(plan(row(), recorded=recorded_after(first)))
    assert again.outcome == "unchanged"
    assert again.events == ()
    assert again.findings == ()


def test_a_later_register_sends_only_the_new_anticipated_date():
    first = plan(row())
    later = only_row(plan(row(anticipated_completion="10/02/2023"), recorded=recorded_after(first)))
    assert later.outcome == "updated"
    assert [e.type for e in later.events] == [EventType.completion_revised]
    assert later.events[0].payload.model_dump()["anticipated_completion"] == dt.date(2023, 2, 10)


def test_a_changed_budget_becomes_budget_changed_per_funding_source():
    first = plan(row(funding="CCIP6:99000"))
    later = only_row(
        plan(
            row(budget="£120,000", funding="CCIP6:99000; School Funded:21000"),
            recorded=recorded_after(first),
        )
    )
    changes = [e.payload.model_dump() for e in later.events]
    assert [(c["funding_source"], c["amount"]) for c in changes] == [
        ("School Funded", Decimal(21000))
    ]
    assert (
        changes[0]["reason"] == "Scheme register: School Funded funding changed from £0 to £21,000"
    )
    state = fold_rules.fold([*first.rows[0].events, *later.events])
    assert state.budget == Decimal(120000)


def test_a_changed_original_completion_rebaselines_the_scheme():
    first = plan(row())
    later = only_row(plan(row(original_completion="30/11/2022"), recorded=recorded_after(first)))
    assert [e.type for e in later.events] == [EventType.scheme_rebaselined]
    assert later.events[0].payload.model_dump()["baseline_completion"] == dt.date(2022, 11, 30)


def test_details_no_event_can_change_are_reported_not_sent():
    first = plan(row())
    later = only_row(
        plan(row(contractor="Kier Construction Limited"), recorded=recorded_after(first))
    )
    assert later.outcome == "unchanged"
    assert message(later, Kind.details_not_updated) == (
        "registered details differ from the tracker's, and no event changes them: contractor "
        "Kier Construction Limited (tracker: Oliveti Construction Ltd)"
    )


def test_a_different_actual_start_is_reported_and_the_first_kept():
    first = plan(row())
    later = only_row(plan(row(actual_start="18/07/2022"), recorded=recorded_after(first)))
    assert later.events == ()
    assert message(later, Kind.start_differs) == (
        "Actual Start Date 2022-07-18 differs from 2022-07-11, the actual start the tracker "
        "holds: not changed"
    )


def test_an_older_register_does_not_revert_what_the_tracker_has_recorded_since():
    first = plan(row())
    later = plan(row(anticipated_completion="10/02/2023"), recorded=recorded_after(first))
    older = only_row(plan(row(), recorded=recorded_after(first, later)))
    assert older.events == ()
    assert message(older, Kind.older_value).startswith(
        "Anti. Completion Date 2023-01-06 was imported before and the tracker has had a later "
        "one since: left as it is"
    )
