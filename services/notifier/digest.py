"""The daily digest a subscriber receives: the alerts raised since their previous digest, the
schemes that are red or amber today and those with snags past their due date. Pure: built
from data, no clock, no I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from events import AlertRaised, Rag, SchemeSnapshot, SchemeStatus
from services.notifier.rules import long_date
from services.notifier.subscriptions import Recipient

# Schemes whose story is over leave the digest; a completed scheme stays while its final
# account (and so its budget RAG) can still move.
_OFF_THE_BOARD = frozenset({SchemeStatus.handed_over, SchemeStatus.cancelled})


class SchemeLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    scheme_id: str
    title: str
    status: SchemeStatus
    overall_rag: Rag
    programme_rag: Rag
    budget_rag: Rag
    anticipated_completion: dt.date | None
    expected_completion: dt.date | None = None
    expected_is_baseline: bool = False
    slippage_days: int | None
    days_overdue: int = 0
    budget: Decimal
    forecast_outturn: Decimal
    open_snags: int = 0
    overdue_snags: int = 0
    concerns: list[str] = []
    """Why the scheme is red or amber (`SchemeSnapshot.concerns`)."""

    @classmethod
    def of(cls, snapshot: SchemeSnapshot) -> SchemeLine:
        return cls.model_validate(
            {
                **snapshot.model_dump(include=set(cls.model_fields)),
                "concerns": snapshot.concerns(),
            }
        )


class Digest(BaseModel):
    model_config = ConfigDict(frozen=True)

    digest_for: dt.date
    since: dt.datetime
    until: dt.datetime
    alerts: list[AlertRaised]
    red: list[SchemeLine]
    amber: list[SchemeLine]
    overdue_snags: list[SchemeLine] = []

    @property
    def is_empty(self) -> bool:
        return not (self.alerts or self.red or self.amber or self.overdue_snags)

    @property
    def subject(self) -> str:
        count = len(self.alerts)
        return (
            f"Capital programme digest {long_date(self.digest_for)}: "
            f"{count} alert{'s' if count != 1 else ''}, {len(self.red)} red, "
            f"{len(self.amber)} amber"
            + (
                f", {self._snags} overdue snag{'s' if self._snags != 1 else ''}"
                if self._snags
                else ""
            )
        )

    @property
    def _snags(self) -> int:
        return sum(line.overdue_snags for line in self.overdue_snags)


def build_digest(
    recipient: Recipient,
    digest_for: dt.date,
    since: dt.datetime,
    until: dt.datetime,
    alerts: Iterable[AlertRaised],
    snapshots: Iterable[SchemeSnapshot],
) -> Digest:
    """Everything the recipient follows: every severity of alert (the digest is where the
    ones below their threshold reach them), today's red and amber schemes and the schemes
    whose snags are past their due date (whatever their status: snags outlive completion)."""
    followed = [s for s in snapshots if recipient.follows(s.scheme_id)]
    on_board = [s for s in followed if s.status not in _OFF_THE_BOARD]
    return Digest(
        digest_for=digest_for,
        since=since,
        until=until,
        alerts=sorted(
            (a for a in alerts if recipient.follows(a.scheme_id)),
            key=lambda a: (-a.severity.rank, a.raised_at),
        ),
        red=[SchemeLine.of(s) for s in on_board if s.overall_rag is Rag.red],
        amber=[SchemeLine.of(s) for s in on_board if s.overall_rag is Rag.amber],
        overdue_snags=[SchemeLine.of(s) for s in followed if s.overdue_snags],
    )
