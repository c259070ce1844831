"""Which entries a command takes by name: `renew NAME…` and `bundle --only NAME…` alike. Each word is an
entry's name (a fleet's member too) or a shell-style pattern (`site-0[0-4]*`, `device-?`), matched
against every name; one that matches nothing is an error naming it, not a silent no-op."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from ..core.errors import RecipeError

T = TypeVar("T")
PATTERN_CHARACTERS = re.compile(r"[*?\[]")


def select(items: Iterable[T], words: list[str], name_of: Callable[[T], str], what: str) -> list[T]:
    """The items whose name is one of `words` or matches one of its patterns, in their own order, each
    once; `what` names them in the error ("server or client", "site")."""
    exact = {word for word in words if not PATTERN_CHARACTERS.search(word)}
    patterns = [(word, re.compile(fnmatch.translate(word))) for word in words if PATTERN_CHARACTERS.search(word)]
    chosen, used = [], set()
    for item in items:
        name = name_of(item)
        hits = ({name} & exact) | {word for word, pattern in patterns if pattern.match(name)}
        if hits:
            chosen.append(item)
            used |= hits
    if missing := [word for word in words if word not in used]:
        first = missing[0]
        if PATTERN_CHARACTERS.search(first):
            raise RecipeError(f"no {what} matches {first!r}", [f"unmatched: {', '.join(missing)}"] if len(missing) > 1 else [])
        raise RecipeError(
            f"the recipe has no {what} named {first!r}", [f"unmatched: {', '.join(missing)}"] if len(missing) > 1 else []
        )
    return chosen
