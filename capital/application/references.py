"""The deployment's funding sources and programmes: list, add, rename (or merge, by
renaming onto a name already on the list).

A rename keeps the old name as retired (events naming it are told the new one) and amends
every scheme that uses it (`scheme.amended`), so each scheme's history says when and why
its source or programme changed name, and its money follows the name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from capital.application.principal import Operation, Principal, require
from capital.application.publishing import LineError, publish
from capital.bootstrap import Container
from capital.settings import now_utc
from events import Envelope, EventType, new_event
from programme.reference import ReferenceKind, folded
from projection.database import transaction
from projection.references import reference_entries, reference_lists
from projection.tables import ReferenceName
from projection.views import scheme_states


class ReferenceNameError(ValueError):
    """A name that cannot be added or renamed, with the reason."""


@dataclass(frozen=True)
class ReferenceEntry:
    name: str
    renamed_to: str | None
    added_by: str
    added_on: str


@dataclass
class RenameResult:
    old: str
    new: str
    amended: list[str] = field(default_factory=list)
    refused: list[LineError] = field(default_factory=list)


def list_names(
    container: Container,
    principal: Principal,
    kind: ReferenceKind,
    *,
    include_retired: bool = False,
) -> list[ReferenceEntry]:
    require(principal, Operation.view_programme)
    with container.sessions() as session:
        rows = reference_entries(session, kind)
    return [
        ReferenceEntry(row.name, row.renamed_to, row.added_by, row.added_at.date().isoformat())
        for row in rows
        if include_retired or row.renamed_to is None
    ]


def add_name(container: Container, principal: Principal, kind: ReferenceKind, name: str) -> str:
    """Add `name` to the list, its spaces tidied; returns the name as added."""
    require(principal, Operation.add_reference_names)
    name = _clean(name, kind)
    with transaction(container.sessions) as session:
        known = reference_lists(session).of(kind)
        if name in known.current:
            raise ReferenceNameError(f"{kind.label} {name!r} is already on the list")
        if name in known.retired:
            raise ReferenceNameError(
                f"{kind.label} {name!r} was renamed {known.retired[name]!r}: use the new name"
            )
        if (spelling := known.spelling_of(name)) is not None:
            raise ReferenceNameError(
                f"{kind.label} {name!r} is another spelling of {spelling!r}, already on the "
                f"list (to change how it is spelt: `capital {_command(kind)} rename`)"
            )
        session.add(
            ReferenceName(
                kind=kind.value, name=name, added_by=principal.attribution, added_at=now_utc()
            )
        )
    return name


def rename(
    container: Container, principal: Principal, kind: ReferenceKind, old: str, new: str
) -> RenameResult:
    """Rename `old` to `new` on the list, then amend every scheme using `old`."""
    require(principal, Operation.rename_reference_names)
    new = _clean(new, kind)
    with transaction(container.sessions) as session:
        known = reference_lists(session).of(kind)
        if old not in known.current:
            hint = known.suggestions(old)
            raise ReferenceNameError(
                f"{kind.label} {old!r} is not on the list"
                + (f": did you mean {' or '.join(map(repr, hint))}?" if hint else "")
            )
        if new == old:
            raise ReferenceNameError(f"{kind.label} {old!r} is already called that")
        # Renaming onto a name already on the list merges the two (`DFE` into `DfE`).
        clash = next(
            (n for n in known.current if n not in (old, new) and folded(n) == folded(new)), None
        )
        if clash is not None and new not in known.current:
            raise ReferenceNameError(
                f"{kind.label} {new!r} is another spelling of {clash!r}, already on the list: "
                f"to merge {old!r} into it, rename it to {clash!r}"
            )
        rows = {row.name: row for row in reference_entries(session, kind)}
        for row in rows.values():
            if row.name == old or row.renamed_to == old:
                row.renamed_to = new
        successor = rows.get(new) or ReferenceName(
            kind=kind.value, name=new, added_by=principal.attribution, added_at=now_utc()
        )
        successor.renamed_to = None
        session.add_all([*rows.values(), successor])
        states = scheme_states(session)
        today = container.settings.current_date()
    reason = f"{kind.label} renamed from {old!r} to {new!r}"
    events: list[Envelope] = []
    for state in states:
        if kind is ReferenceKind.funding_source and old in state.budget_by_source():
            payload = {"funding_source": old, "renamed_to": new, "reason": reason}
        elif kind is ReferenceKind.programme and state.programme == old:
            payload = {"programme": new, "reason": reason}
        else:
            continue
        events.append(new_event(EventType.scheme_amended, state.scheme_id, today, payload))
    report = publish(container, list(enumerate(events, start=1)), principal)
    return RenameResult(old, new, [event.scheme_id for event in report.published], report.errors)


def _clean(name: str, kind: ReferenceKind) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ReferenceNameError(f"a {kind.label} needs a name")
    if len(cleaned) > 200:
        raise ReferenceNameError(f"a {kind.label} name has at most 200 characters")
    return cleaned


def _command(kind: ReferenceKind) -> str:
    return f"{kind.value.replace('_', '-')}s"
