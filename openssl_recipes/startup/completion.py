"""Bash's Tab answered before typer is imported, for the requests made on almost every Tab: a
command name, and an entry name after `show`, `renew`, `export`, `revoke` or `issue ROLE`.

The shell runs the program on every Tab; typer's answer costs its import (~0.2 s here). This module
answers only what it understands exactly as typer would (no option given, nothing that looks like
one, bash's protocol); for anything else it returns None and typer answers. tests/e2e/test_quick_answers.py
holds both to the same output for the same requests.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from ..core.names import DEFAULT_RECIPE_FILE

COMPLETE_VAR = "_OPENSSL_RECIPES_COMPLETE"  # typer's variable for the program name openssl-recipes
# The commands whose arguments are entry names: how many they take (None: any number).
ENTRY_ARGUMENTS: dict[str, int | None] = {"show": None, "renew": None, "export": 1, "revoke": 1}
ROLES = ("client", "server")  # `issue ROLE NAME`
SHOWS_AUTHORITIES = {"show"}  # the others take servers and clients only (renew, export, revoke, issue refuse a CA)


def answer(environ: Mapping[str, str], command_names: list[str], recipe_file: str = DEFAULT_RECIPE_FILE) -> str | None:
    """What `typer` prints for this completion request, or None when typer must answer it."""
    if environ.get(COMPLETE_VAR) != "complete_bash":
        return None
    try:
        cword = int(environ["COMP_CWORD"])
        words = split_arg_string(environ["COMP_WORDS"])
    except (KeyError, ValueError):
        return None
    args, incomplete = words[1:cword], (words[cword] if cword < len(words) else "")
    if cword < 1 or (incomplete and not incomplete[0].isalnum()) or any(not arg[:1].isalnum() for arg in args):
        return None  # an option, or the start of one: typer completes those
    if not args:
        found = [name for name in command_names if name.startswith(incomplete)]
    elif _completes_an_entry(args):
        found = _entry_names(recipe_file, incomplete, authorities=args[0] in SHOWS_AUTHORITIES)
    else:
        return None
    return "\n".join(found) + "\n"


def _completes_an_entry(args: list[str]) -> bool:
    command, given = args[0], args[1:]
    if command == "issue":
        return len(given) == 1 and given[0] in ROLES
    if command not in ENTRY_ARGUMENTS:
        return False
    limit = ENTRY_ARGUMENTS[command]
    return limit is None or len(given) < limit


def _entry_names(recipe_file: str, incomplete: str, authorities: bool) -> list[str]:
    from .peek import entry_names

    try:
        names = entry_names(recipe_file, authorities)
    except Exception:  # noqa: BLE001 - as commands.common.entry_names: no error into the user's shell
        return []
    return [name for name in names if name.startswith(incomplete)]


def split_arg_string(string: str) -> list[str]:
    """click's `split_arg_string`: shlex words, an unfinished quote or escape taken as it stands."""
    lex = shlex.shlex(string, posix=True)
    lex.whitespace_split = True
    lex.commenters = ""
    out = []
    try:
        for token in lex:
            out.append(token)
    except ValueError:
        out.append(lex.token)
    return out
