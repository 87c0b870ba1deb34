"""Reports as JSON for the web portal and other systems: snake_case keys, ISO dates, RAG as
`green|amber|red`, money as JSON numbers written from the Decimal (never via a float)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import Enum
from typing import Any

import simplejson

from services.reporter.changes import summary
from services.reporter.model import (
    AmountChange,
    BudgetBySource,
    ChangesReport,
    CommitteePack,
    ProgrammeReport,
    RagCounts,
    Report,
    ReportScope,
    SlippageReport,
)
from services.reporter.render.tables import source_row


def document(report: Report) -> dict[str, Any]:
    if isinstance(report, BudgetBySource):
        return {**_heading("budget_by_source", report.scope), **_budget(report)}
    if isinstance(report, ProgrammeReport):
        return _programme(report)
    if isinstance(report, SlippageReport):
        return _slippage(report)
    if isinstance(report, CommitteePack):
        return _pack(report)
    if isinstance(report, ChangesReport):
        return _changes(report)
    raise TypeError(f"not a report: {report!r}")


def dumps(value: Any) -> str:
    """JSON text, indented, with Decimals written exactly as they are."""
    return (
        simplejson.dumps(
            value,
            indent=2,
            ensure_ascii=False,
            use_decimal=True,
            default=_plain,
            namedtuple_as_object=False,
        )
        + "\n"
    )


def _heading(name: str, scope: ReportScope, judged_on: dt.date | None = None) -> dict[str, Any]:
    heading: dict[str, Any] = {
        "report": name,
        "position": scope.describe(),
        "as_at": scope.position_date,
        "known_on": scope.known_date,
    }
    if judged_on is not None:
        heading["judged_on"] = judged_on
    heading["public"] = scope.public
    return heading


def _budget(report: BudgetBySource) -> dict[str, Any]:
    return {
        "rows": [source_row(row) for row in report.rows],
        "total": source_row(report.total),
    }


def _counts(counts: RagCounts) -> dict[str, int]:
    return {"green": counts.green, "amber": counts.amber, "red": counts.red, "total": counts.total}


def _programme(report: ProgrammeReport) -> dict[str, Any]:
    return {
        **_heading("programme", report.scope, report.judged_on),
        "schemes": report.schemes,
        "rag_totals": {which: _counts(c) for which, c in report.rag_totals.items()},
        "by_status": [{"status": b.group, **_counts(b.counts)} for b in report.by_status],
        "by_programme": [{"programme": b.group, **_counts(b.counts)} for b in report.by_programme],
        "red_and_amber": [_fields(concern) for concern in report.concerns],
    }


def _slippage(report: SlippageReport) -> dict[str, Any]:
    rows = []
    for row in report.rows:
        fields = _fields(row)
        history = fields.pop("revisions")
        rows.append(
            {
                **fields,
                "days_late": row.days_late,
                "revisions": row.revision_count,
                "revised_by": list(row.revised_by),
                "revision_history": [
                    {**revision, "days_moved": original.days_moved}
                    for revision, original in zip(history, row.revisions, strict=True)
                ],
            }
        )
    return {**_heading("slippage", report.scope, report.judged_on), "rows": rows}


def _pack(report: CommitteePack) -> dict[str, Any]:
    return {
        **_heading("pack", report.scope, report.judged_on),
        "rag_totals": {which: _counts(c) for which, c in report.rag_totals.items()},
        "budget_by_source": _budget(report.budget_by_source),
        "schemes": [_fields(card) for card in report.cards],
        **({"changes": _changes(report.changes)} if report.changes else {}),
    }


def _changes(report: ChangesReport) -> dict[str, Any]:
    def amount(change: AmountChange) -> dict[str, Any]:
        return {**_fields(change), "change": change.change}

    schemes = []
    for scheme in report.schemes:
        fields = _fields(scheme)
        fields.update(budget=amount(scheme.budget), forecast=amount(scheme.forecast))
        if scheme.completion is not None:
            fields["completion"]["days"] = scheme.completion.days
        schemes.append(fields)
    return {
        "report": "changes",
        "since": report.since,
        "until": report.until,
        "public": report.public,
        "summary": summary(report),
        "schemes": schemes,
        "budget_by_source": [amount(change) for change in report.budget_by_source],
        "budget_total": amount(report.budget_total),
        "forecast_total": amount(report.forecast_total),
    }


def _fields(record: Any) -> dict[str, Any]:
    return dataclasses.asdict(record)


def _plain(value: Any) -> Any:
    """What simplejson cannot write by itself: dates and enums (money stays Decimal and is
    written exactly)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
