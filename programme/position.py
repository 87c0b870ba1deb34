"""The two time axes of a position (design: "The two time axes"). Pure.

Every event carries the date it happened (`occurred_on`, valid time) and the date the
product was told (`recorded_on`, record time). A position picks both:

- `as_at` D: the programme as it stood on D, from the events that occurred on or before D;
- `known_on` K: only what had been recorded by the end of K.

Both default to now (everything). `Position.as_of(D)` is the committee reproduction: as at
D, as known on D. RAG is judged on `judged_on`: the as-at date unless a reader fixes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from events import Envelope
from programme.scheme import EventRejected, SchemeState, apply


@dataclass(frozen=True)
class Position:
    judged_on: dt.date
    as_at: dt.date | None = None
    known_on: dt.date | None = None

    @classmethod
    def as_of(cls, day: dt.date, judged_on: dt.date | None = None) -> Position:
        """What a committee saw on `day`: as at that day, as known that day."""
        return cls(judged_on or day, as_at=day, known_on=day)

    @property
    def is_now(self) -> bool:
        """Everything known, as it stands now: the projection's stored states."""
        return self.as_at is None and self.known_on is None

    @property
    def cuts_valid_time(self) -> bool:
        return self.as_at is not None

    def includes(self, event: Envelope) -> bool:
        return (self.as_at is None or event.occurred_on <= self.as_at) and (
            self.known_on is None or event.recorded_on <= self.known_on
        )

    def describe(self) -> str:
        """Which position is shown, in a reader's words: "Position at 31 Mar 2024, as known
        on 29 Jul 2024" (an as-at date left open is the day RAG is judged on)."""
        return f"Position {self.about()}"

    def about(self) -> str:
        """The position's dates for a title: "at 31 Mar 2024, as known on 29 Jul 2024"."""
        at = self.as_at or self.judged_on
        known = f"as known on {long_date(self.known_on)}" if self.known_on else "as known now"
        text = f"at {long_date(at)}, {known}"
        if self.judged_on != at:
            text += f", judged on {long_date(self.judged_on)}"
        return text

    def fold(self, events: Iterable[Envelope]) -> SchemeState | None:
        """A scheme's state in this position: its events (in the order they were applied)
        that occurred by `as_at` and were recorded by `known_on`.

        Record time cuts history at a point it was admitted in, so every kept event applies.
        Valid time can leave out an event a kept one relied on (a snag cleared on the 30th
        but raised, late, as on the 2nd of next month): a kept event that no longer applies
        is left out of the position too, as it could not have stood then."""
        state: SchemeState | None = None
        for event in events:
            if not self.includes(event):
                continue
            try:
                state = apply(state, event)
            except EventRejected:
                if not self.cuts_valid_time:
                    raise
        return state


def long_date(day: dt.date) -> str:
    """`31 Mar 2024`: the GOV.UK style for dates in running text and headings."""
    return f"{day.day} {day:%b %Y}"
