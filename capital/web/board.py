"""The orders a reader may sort the portal's board in, and the rows in the order picked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SORTS: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
    # Schemes with no baseline to slip against come last either way.
    "slippage": (
        "Slippage, most first",
        lambda r: (r["slippage_days"] is None, -(r["slippage_days"] or 0), r["scheme_id"]),
    ),
    "slippage-asc": (
        "Slippage, least first",
        lambda r: (r["slippage_days"] is None, r["slippage_days"] or 0, r["scheme_id"]),
    ),
    "scheme": ("Scheme reference", lambda r: r["scheme_id"]),
}
SORT_LABELS = {name: label for name, (label, _) in SORTS.items()}


def in_order(rows: list[dict[str, Any]], asked: str) -> tuple[str, list[dict[str, Any]]]:
    """The sort asked for (most slippage first when it names none) and the rows in it."""
    sort = asked if asked in SORTS else "slippage"
    return sort, sorted(rows, key=SORTS[sort][1])
