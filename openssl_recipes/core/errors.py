"""The errors the command line knows how to print, and the exit code each one means.

Every failure a user can cause or meet is one of these; anything else is a bug.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from .interrupt import EXIT_INTERRUPTED  # noqa: F401 - Ctrl-C, defined where start-up can read it cheaply

EXIT_OK = 0
EXIT_FAILED = 1  # a run that failed: openssl exited non-zero, a check failed
EXIT_BAD_INPUT = 2  # the recipe, an option or a password reference is wrong


class RecipesError(Exception):
    """Base class: a message for a person and the exit code that goes with it."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details or [])

    def lines(self) -> list[str]:
        return [self.message, *(f"  • {d}" for d in self.details)]


class RecipeError(RecipesError):
    """The recipe file cannot be read, parsed or validated."""

    exit_code = EXIT_BAD_INPUT


class UsageError(RecipesError):
    """An option, a password reference or the output folder is not usable as given."""

    exit_code = EXIT_BAD_INPUT


class OpensslError(RecipesError):
    """The openssl binary is missing, unusable, or too old for what the plan needs."""

    exit_code = EXIT_FAILED


class RunError(RecipesError):
    """A command of the plan failed; the message names it (secrets masked), its code and stderr."""

    exit_code = EXIT_FAILED


class CheckFailed(RecipesError):
    """A verification found a problem; the details say which and why."""

    exit_code = EXIT_FAILED


class ChildrenStopped(Exception):
    """What an interrupt (`interrupt.Interrupt`) ended: a run whose openssl children were stopped and their
    partial files removed; the message says how many."""


Loc = tuple["str | int", ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a recipe: where (a field path such as ("clients", 2, "san", 0)) and what.
    The loader adds the line and column from the YAML it read."""

    loc: Loc
    message: str

    @property
    def where(self) -> str:
        return format_loc(self.loc)


def format_loc(loc: Loc | list) -> str:
    """("clients", 2, "san", 0) → clients[2].san[0]."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


@functools.lru_cache(maxsize=4096)
def loc_text(loc: Loc) -> str:
    """`format_loc`, once per place: a fleet's members share their entry's."""
    return format_loc(loc)
