"""The deployment's reference lists in the database: read them, seed them, change them."""

from __future__ import annotations

import datetime as dt
import importlib
from collections import defaultdict
from collections.abc import Iterable

from sqlmodel import Session, select

from programme.reference import ReferenceKind, ReferenceList, ReferenceLists
from projection.tables import ReferenceName


def reference_lists(session: Session) -> ReferenceLists:
    current: dict[ReferenceKind, set[str]] = defaultdict(set)
    retired: dict[ReferenceKind, dict[str, str]] = defaultdict(dict)
    for row in session.exec(select(ReferenceName)):
        kind = ReferenceKind(row.kind)
        if row.renamed_to is None:
            current[kind].add(row.name)
        else:
            retired[kind][row.name] = row.renamed_to
    return ReferenceLists(
        {
            kind: ReferenceList(kind, frozenset(current[kind]), dict(retired[kind]))
            for kind in ReferenceKind
        }
    )


def reference_entries(session: Session, kind: ReferenceKind) -> list[ReferenceName]:
    query = select(ReferenceName).where(ReferenceName.kind == kind.value)
    return sorted(session.exec(query), key=lambda row: row.name.casefold())


def seed_names(
    session: Session,
    names: Iterable[tuple[ReferenceKind, str]],
    added_by: str,
    at: dt.datetime,
) -> None:
    """Add the names the lists lack, leaving alone any name already there (current or
    retired) or another spelling of a current one. Safe when two writers seed at once."""
    names = list(dict.fromkeys(names))
    if not names:
        return
    lists = reference_lists(session)
    rows = [
        {"kind": kind.value, "name": name, "added_by": added_by, "added_at": at}
        for kind, name in names
        if name not in lists.of(kind).current
        and name not in lists.of(kind).retired
        and lists.of(kind).spelling_of(name) is None
    ]
    if not rows:
        return
    # The dialect's own INSERT ... ON CONFLICT, imported here: loading both dialects'
    # modules costs every process a tenth of a second, and only seeding needs one.
    name = "postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"
    dialect = importlib.import_module(f"sqlalchemy.dialects.{name}")
    statement = dialect.insert(ReferenceName).values(rows)
    session.execute(statement.on_conflict_do_nothing(index_elements=["kind", "name"]))
