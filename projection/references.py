"""The deployment's reference lists in the database: read them, seed them, change them."""

from __future__ import annotations

import datetime as dt
import importlib
from collections import defaultdict
from collections.abc import Iterable

from sqlmodel import Session, select

from programme.reference import ReferenceKind, ReferenceList, ReferenceLists, folded
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
    seed_attributed_names(session, [(kind, name, added_by) for kind, name in names], at)


def seed_attributed_names(
    session: Session, names: Iterable[tuple[ReferenceKind, str, str]], at: dt.datetime
) -> None:
    """`seed_names` for names each added by whoever first used them: (kind, name, by)."""
    first_use: dict[tuple[ReferenceKind, str], str] = {}
    for kind, name, added_by in names:
        first_use.setdefault((kind, name), added_by)
    if not first_use:
        return
    lists = reference_lists(session)
    rows: list[dict[str, object]] = []
    spellings: set[tuple[ReferenceKind, str]] = set()  # one spelling of a new name
    for (kind, name), added_by in first_use.items():
        entries = lists.of(kind)
        known = name in entries.current or name in entries.retired
        if known or entries.spelling_of(name) is not None or (kind, folded(name)) in spellings:
            continue
        spellings.add((kind, folded(name)))
        rows.append({"kind": kind.value, "name": name, "added_by": added_by, "added_at": at})
    if not rows:
        return
    # The dialect's own INSERT ... ON CONFLICT, imported here: loading both dialects'
    # modules costs every process a tenth of a second, and only seeding needs one.
    name = "postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"
    dialect = importlib.import_module(f"sqlalchemy.dialects.{name}")
    statement = dialect.insert(ReferenceName).values(rows)
    session.execute(statement.on_conflict_do_nothing(index_elements=["kind", "name"]))
