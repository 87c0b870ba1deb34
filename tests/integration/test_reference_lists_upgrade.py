"""Revision 0004 on a deployment that already has a programme: its funding sources and
programmes become the reference lists, so only new spellings are refused, and schemes the
earlier release stored are folded again with what the fold now keeps. SQLite and
PostgreSQL alike."""

from __future__ import annotations

import datetime as dt

from capital.application.accounts import operator
from capital.application.publishing import publish
from capital.migrations import upgrade_schema
from programme.reference import ReferenceKind
from projection.database import make_engine
from projection.references import reference_lists
from projection.views import scheme_state
from tests.builders import event
from tests.integration.test_migrations import load_release_0_1_0

RELEASE_SOURCES = {
    "CCIP4",
    "CCIP5",
    "CCIP6",
    "CCIP7",
    "Capital Building Works",
    "Children's Capital",
    "DfE",
    "DfE DSP Grant",
    "High Needs Grant",
    "Policy Provision",
    "Revenue Building Works",
    "Salix",
    "School Funded",
}


def test_an_upgraded_deployment_lists_the_sources_its_events_use(database_url, make_container):
    load_release_0_1_0(database_url)
    engine = make_engine(database_url)
    try:
        upgrade_schema(engine)
    finally:
        engine.dispose()
    container = make_container(database_url, today=dt.date(2024, 8, 1))
    with container.sessions() as session:
        lists = reference_lists(session)
        stored = scheme_state(session, "CYPE-002")
    assert set(lists.of(ReferenceKind.funding_source).current) == RELEASE_SOURCES
    assert stored is not None and stored.is_current  # folded again from its events
    assert [line.source for line in stored.approvals] == ["Policy Provision", "DfE"]

    principal = operator(container.sessions, "tests", "ana.lee")
    misspelt = event(
        "budget.changed", "2024-08-01", "CYPE-002", actor="ana.lee",
        funding_source="DFE", amount="5000", reason="Fire doors",
    )  # fmt: skip
    report = publish(container, [(1, misspelt)], principal)
    assert [e.reason for e in report.errors] == [
        "unknown funding source 'DFE': did you mean 'DfE'?"
    ]
