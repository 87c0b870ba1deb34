"""Which schemes a reader asked for: the programme board's filters, one place for the CLI
and the HTTP API. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from events import Rag, SchemeSnapshot, SchemeStatus
from programme.scheme import SchemeState


@dataclass(frozen=True)
class SchemeFilter:
    """Every condition given must hold; text is compared without regard to case. `rag` is
    the overall RAG; a funding source matches a scheme with any budget from it."""

    rag: Rag | None = None
    status: SchemeStatus | None = None
    programme: str | None = None
    funding_source: str | None = None
    project_manager: str | None = None

    def matches(self, state: SchemeState, judged: SchemeSnapshot) -> bool:
        return (
            (self.rag is None or judged.overall_rag is self.rag)
            and (self.status is None or state.status is self.status)
            and _same(self.programme, [state.programme])
            and _same(self.funding_source, [line.source for line in state.funding])
            and _same(self.project_manager, [state.project_manager])
        )


def _same(wanted: str | None, values: list[str | None]) -> bool:
    if wanted is None:
        return True
    folded = wanted.strip().casefold()
    return any(value is not None and value.strip().casefold() == folded for value in values)
