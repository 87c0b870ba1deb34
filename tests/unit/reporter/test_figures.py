"""The report figures that are pure functions: rounding pro rata shares, the programme
report, completion revisions and the slippage order, the pack's cards."""

from __future__ import annotations

from decimal import Decimal

import pytest

from events import Rag, SchemeStatus
from programme.rag import snapshot
from programme.scheme import fold
from services.reporter.model import BudgetBySource, ReportScope, SourceFigures
from services.reporter.queries import (
    ReconciliationError,
    apportion,
    committee_pack,
    completion_revisions,
    concern_reasons,
    programme_report,
    slippage_report,
)
from tests.builders import day, event, registered
from tests.unit.reporter.scenario import JUDGED_ON, POLICY, histories, states

SCOPE = ReportScope()


class TestApportion:
    def test_splits_a_pound_three_ways_to_the_penny_and_adds_up(self) -> None:
        third = Decimal(100) / 3
        shares = apportion({"A": third, "B": third, "C": third}, total=100)
        assert sorted(shares.values()) == [33, 33, 34]
        assert sum(shares.values()) == 100

    def test_gives_the_left_over_penny_to_the_largest_remainder(self) -> None:
        shares = apportion({"A": Decimal("10.2"), "B": Decimal("20.7"), "C": Decimal("5.1")}, 36)
        assert shares == {"A": 10, "B": 21, "C": 5}

    def test_rounds_an_underspend_to_the_penny_too(self) -> None:
        shares = apportion({"A": Decimal("-10.5"), "B": Decimal("-5.5")}, total=-16)
        assert sum(shares.values()) == -16
        assert shares == {"A": -10, "B": -6}

    def test_absorbs_float_noise_from_sqlite(self) -> None:
        shares = apportion({"A": Decimal("499.99999999997"), "B": Decimal("300.00000000003")}, 800)
        assert shares == {"A": 500, "B": 300}

    def test_refuses_shares_that_do_not_add_up_to_the_total(self) -> None:
        with pytest.raises(ReconciliationError):
            apportion({"A": Decimal(10), "B": Decimal(10)}, total=25)


class TestProgrammeReport:
    def test_counts_overall_rag_by_status_and_by_programme(self) -> None:
        report = programme_report(states(), SCOPE, JUDGED_ON, POLICY)

        assert report.schemes == 4
        by_status = {row.group: row.counts for row in report.by_status}
        assert (by_status["on_site"].red, by_status["registered"].red) == (1, 1)
        assert by_status["registered"].amber == 1
        assert by_status["complete"].green == 1
        assert sum(row.counts.total for row in report.by_status) == 4
        by_programme = {row.group: row.counts for row in report.by_programme}
        assert list(by_programme) == ["Expansion", "No programme", "SEND"]
        assert (by_programme["SEND"].green, by_programme["SEND"].red) == (1, 1)
        assert by_programme["No programme"].amber == 1

    def test_totals_each_kind_of_rag(self) -> None:
        report = programme_report(states(), SCOPE, JUDGED_ON, POLICY)

        assert report.rag_totals["programme"].red == 2
        assert report.rag_totals["budget"].red == 1
        assert report.rag_totals["budget"].amber == 1
        assert report.rag_totals["overall"].green == 1

    def test_lists_red_before_amber_schemes_with_their_reasons(self) -> None:
        report = programme_report(states(), SCOPE, JUDGED_ON, POLICY)

        assert [c.scheme_id for c in report.concerns] == ["S-1", "S-3", "S-10"]
        s1, s3, s10 = report.concerns
        assert s1.reasons == (
            "Anticipated completion 10 Sep 2024 is 72 days after the baseline of 30 Jun 2024",
            "Forecast outturn £110,000.00 is £10,000.00 (10.0%) over the budget of £100,000.00",
        )
        assert s3.reasons == ("Overdue by 120 days: baseline completion 31 Mar 2024 has passed",)
        assert s10.overall_rag is Rag.amber
        assert s10.reasons == (
            "Forecast outturn £51,000.00 is £1,000.00 (2.0%) over the budget of £50,000.00",
        )

    def test_a_scheme_never_revised_and_past_its_baseline_says_it_is_overdue(self) -> None:
        never_revised = fold([registered(baseline_completion="2024-06-30")])
        assert never_revised is not None

        (concern,) = programme_report([never_revised], SCOPE, JUDGED_ON, POLICY).concerns

        assert (concern.overall_rag, concern.reasons) == (
            Rag.red,
            ("Overdue by 29 days: baseline completion 30 Jun 2024 has passed",),
        )

    def test_names_an_override_and_its_reason(self) -> None:
        state = fold(
            [
                registered(),
                event(
                    "rag.overridden",
                    "2024-02-01",
                    which="overall",
                    value="red",
                    reason="Planning objection from residents",
                ),
            ]
        )
        assert state is not None
        reasons = concern_reasons(snapshot(state, JUDGED_ON, POLICY))
        # The programme is red on its own too (past its baseline): both are said.
        assert reasons == (
            "Overdue by 29 days: baseline completion 30 Jun 2024 has passed",
            "Overall RAG set to red by override: Planning objection from residents",
        )


class TestCompletionRevisions:
    def test_counts_each_move_of_the_date_with_who_made_it_and_from_where(self) -> None:
        revisions = completion_revisions(histories()["S-1"])

        assert [(r.actor, r.previous, r.revised_to) for r in revisions] == [
            ("pm.alice", day("2024-06-30"), day("2024-08-31")),
            ("pm.bob", day("2024-08-31"), day("2024-09-10")),
        ]
        assert [r.days_moved for r in revisions] == [62, 10]
        assert revisions[0].reason == "Steel delivery late"

    def test_the_first_anticipated_date_of_a_scheme_without_a_baseline_is_not_a_revision(
        self,
    ) -> None:
        assert completion_revisions(histories()["S-10"]) == ()

    def test_restating_the_same_date_is_not_a_revision(self) -> None:
        history = [
            registered(baseline_completion="2024-06-30"),
            event(
                "completion.revised",
                "2024-02-01",
                anticipated_completion="2024-06-30",
                reason="Confirmed",
            ),
            event(
                "completion.revised",
                "2024-03-01",
                anticipated_completion="2024-07-31",
                reason="Late steel",
            ),
            event(
                "completion.revised",
                "2024-04-01",
                anticipated_completion="2024-07-31",
                reason="Still late",
            ),
        ]
        (revision,) = completion_revisions(history)
        assert (revision.previous, revision.revised_to) == (day("2024-06-30"), day("2024-07-31"))

    def test_a_rebaseline_moves_the_reference_a_later_revision_is_measured_from(self) -> None:
        history = [
            registered(baseline_completion=None),
            event(
                "scheme.rebaselined",
                "2024-02-01",
                baseline_completion="2024-09-30",
                reason="Scope added",
            ),
            event(
                "completion.revised",
                "2024-03-01",
                anticipated_completion="2024-10-31",
                reason="Late steel",
            ),
        ]
        (revision,) = completion_revisions(history)
        assert revision.previous == day("2024-09-30")


class TestSlippageReport:
    def test_sorts_worst_first_counting_overdue_schemes_as_late_until_today(self) -> None:
        report = slippage_report(states(), histories(), SCOPE, JUDGED_ON, POLICY)

        assert [row.scheme_id for row in report.rows] == ["S-3", "S-1", "S-10", "S-2"]
        s3, s1, s10, s2 = report.rows
        assert (s3.slippage_days, s3.overdue_days, s3.days_late) == (0, 120, 120)
        assert (s1.slippage_days, s1.revision_count, s1.revised_by) == (
            72,
            2,
            ("pm.alice", "pm.bob"),
        )
        assert (s10.slippage_days, s10.revision_count) == (0, 0)
        assert (s2.slippage_days, s2.status) == (-11, SchemeStatus.complete)

    def test_a_scheme_with_no_dates_at_all_comes_last(self) -> None:
        undated = fold([registered("S-0", baseline_completion=None)])
        assert undated is not None
        report = slippage_report([undated, *states()], histories(), SCOPE, JUDGED_ON, POLICY)
        assert report.rows[-1].scheme_id == "S-0"
        assert report.rows[-1].days_late is None


class TestPackCards:
    def test_a_card_shows_approvals_with_the_unknown_split_and_budget_changes(self) -> None:
        events = [
            registered(
                "S-7",
                budget="120000",
                funding=[{"source": "Salix", "amount": "20000", "approved_on": "2023-11-01"}],
            ),
            event(
                "budget.changed",
                "2024-03-01",
                "S-7",
                funding_source="CCIP7",
                amount="-5000",
                reason="Savings on windows",
            ),
        ]
        funding = BudgetBySource(SCOPE, (), SourceFigures("Total", 0, *(Decimal(0),) * 4))
        pack = committee_pack(states(events), histories(events), funding, JUDGED_ON, POLICY)

        (card,) = pack.cards
        assert [(f.source, f.amount) for f in card.funding] == [
            ("Salix", Decimal("20000")),
            ("Unallocated", Decimal("100000")),
        ]
        assert card.funding[0].approved_on == day("2023-11-01")
        assert [(c.funding_source, c.amount, c.reason) for c in card.budget_changes] == [
            ("CCIP7", Decimal("-5000"), "Savings on windows")
        ]
        assert (card.original_budget, card.budget) == (Decimal("120000"), Decimal("115000"))
