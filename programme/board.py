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
    q: str | None = None  # text in the scheme's id or title

    def matches(self, state: SchemeState, judged: SchemeSnapshot) -> bool:
        return (
            (self.q is None or self.q.casefold() in f"{state.scheme_id} {state.title}".casefold())
            and (self.rag is None or judged.overall_rag is self.rag)
            and (self.status is None or state.status is self.status)
            and _same(self.programme, [state.programme])
            and _same(self.funding_source, [line.source for line in state.funding])
            and _same(self.project_manager, [state.project_manager])
        )

    def describe(self) -> str:
        """The conditions given, as a reader would say them ("rag red, programme SEND")."""
        chosen = {k: v for k, v in vars(self).items() if v is not None}
        return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in chosen.items())


def _same(wanted: str | None, values: list[str | None]) -> bool:
    if wanted is None:
        return True
    folded = wanted.strip().casefold()
    return any(value is not None and value.strip().casefold() == folded for value in values)
