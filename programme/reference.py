"""The deployment's reference lists: its funding sources and its programmes. Pure.

A name an event gives must be one on the list, spelt as the list spells it, so `DFE` never
becomes a source beside `DfE`. A renamed entry keeps its old name as retired, so an event
naming it is told the new one. While a list is still empty (a new deployment, the demo)
any name is accepted: the first registrations seed it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from events import Envelope
from events import payloads as p
from programme.scheme import UNALLOCATED


class ReferenceKind(StrEnum):
    funding_source = "funding_source"
    programme = "programme"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


def folded(name: str) -> str:
    """What two spellings of one name have in common: letters and digits, any case."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def names_in(event: Envelope) -> list[tuple[ReferenceKind, str]]:
    """The funding sources and programmes an event names."""
    body = event.payload
    sources: list[str] = []
    programmes: list[str] = []
    if isinstance(body, p.SchemeRegistered):
        sources = [line.source for line in body.funding]
        programmes = [body.programme] if body.programme else []
    elif isinstance(body, p.BudgetChanged):
        sources = [body.funding_source]
    elif isinstance(body, p.BudgetTransferred):
        sources = [body.from_source, body.to_source]
    elif isinstance(body, p.SchemeAmended):
        # A rename moves a scheme to the new name; the old one is the scheme's history.
        sources = [body.renamed_to or body.funding_source] if body.funding_source else []
        programmes = [body.programme] if body.programme else []
    named = [(ReferenceKind.funding_source, name) for name in sources if name != UNALLOCATED]
    return named + [(ReferenceKind.programme, name) for name in programmes]


@dataclass(frozen=True)
class ReferenceList:
    """One list: its current names, and retired names with the name each became."""

    kind: ReferenceKind
    current: frozenset[str] = frozenset()
    retired: Mapping[str, str] = field(default_factory=dict)

    def problem(self, name: str) -> str | None:
        """Why `name` may not be used; None when it may."""
        if name in self.current or not self.current:
            return None
        label = self.kind.label
        if name in self.retired:
            return f"{label} {name!r} was renamed {self.retired[name]!r}: use the new name"
        suggestions = self.suggestions(name)
        if suggestions:
            return f"unknown {label} {name!r}: did you mean {_either(suggestions)}?"
        return (
            f"unknown {label} {name!r}: not on the deployment's list of "
            f"{label}s (add it first with `capital {self.kind.value.replace('_', '-')}s add`)"
        )

    def suggestions(self, name: str) -> list[str]:
        """Known names `name` may be a misspelling of, the likeliest first."""
        key = folded(name)
        same = sorted(n for n in self.current if folded(n) == key)
        if same:
            return same
        renamed = [new for old, new in self.retired.items() if folded(old) == key]
        by_key = {folded(n): n for n in self.current}
        close = difflib.get_close_matches(key, list(by_key), n=3, cutoff=0.75)
        return list(dict.fromkeys([*renamed, *(by_key[k] for k in close)]))

    def spelling_of(self, name: str) -> str | None:
        """The list's entry `name` is another spelling of (case, spaces, punctuation), or
        None when it is on the list as written or like no entry."""
        if name in self.current:
            return None
        key = folded(name)
        return next((n for n in sorted(self.current) if folded(n) == key), None)


@dataclass(frozen=True)
class ReferenceLists:
    lists: Mapping[ReferenceKind, ReferenceList]

    def problems(self, event: Envelope) -> list[str]:
        """What is wrong with the names `event` gives, one reason per name."""
        found = [self.of(kind).problem(name) for kind, name in names_in(event)]
        return list(dict.fromkeys(problem for problem in found if problem))

    def of(self, kind: ReferenceKind) -> ReferenceList:
        return self.lists.get(kind) or ReferenceList(kind)


def _either(names: Iterable[str]) -> str:
    quoted = [repr(name) for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
