"""Finding a scheme by the id a person typed: `cype-018` is `CYPE-018`, and an id that
matches nothing gets the nearest known ids as a suggestion. Pure."""

from __future__ import annotations

import difflib
from collections.abc import Collection


def match_scheme_id(given: str, known: Collection[str]) -> str | None:
    """The known id `given` names, compared without regard to case; None when none does."""
    if given in known:
        return given
    folded = given.casefold()
    return next((scheme_id for scheme_id in sorted(known) if scheme_id.casefold() == folded), None)


def unknown_scheme(given: str, known: Collection[str]) -> str:
    """Why `given` names no scheme, with the closest known ids when some are near."""
    by_folded = {scheme_id.casefold(): scheme_id for scheme_id in known}
    near = difflib.get_close_matches(given.casefold(), list(by_folded), n=3, cutoff=0.8)
    reason = f"unknown scheme {given!r}: no scheme.registered for it"
    if near:
        reason += f" (did you mean {' or '.join(by_folded[n] for n in near)}?)"
    return reason
