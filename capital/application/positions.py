"""Which position a reader asked for, on the two time axes, from the dates they gave.

Every read (board, scheme, reports, pack) takes the same four dates: `as_at` (valid time),
`known_on` (record time), `as_of` (both: what a committee saw on that day) and `today` (the
day RAG is judged on; by default the as-at date, never later than the deployment's today).
"""

from __future__ import annotations

import datetime as dt

from capital.application.errors import InvalidInput
from capital.bootstrap import Container
from programme.position import Position


def position(
    container: Container,
    as_at: dt.date | None = None,
    known_on: dt.date | None = None,
    as_of: dt.date | None = None,
    today: dt.date | None = None,
) -> Position:
    if as_of is not None:
        if as_at is not None or known_on is not None:
            raise InvalidInput(
                "as_of",
                "as_of D is the position as at D and as known on D: give as_of alone, "
                "or as_at and known_on",
            )
        as_at = known_on = as_of
    judged_on = today or container.settings.judging_date(as_at)
    return Position(judged_on, as_at=as_at, known_on=known_on)
