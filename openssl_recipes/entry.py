"""The console script and `python -m openssl_recipes`: bash's most common Tabs and the top-level
`--help` answered without typer (startup.completion, startup.help), `build`'s head start (its first keys
started before anything heavy is imported), then the typer app."""

from __future__ import annotations

import os
import sys
from typing import NoReturn


def main(argv: list[str] | None = None) -> int:
    # The recipe schema uses no pydantic plugin; looking for them scans every installed package's
    # metadata (~6 ms of each start-up, measured). Set first: the head start's children see it too.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from .core.output import failed, guard_standard_streams

    guard_standard_streams()  # before any file is opened or child started
    if (reply := _without_typer(sys.argv[1:] if argv is None else argv)) is not None:
        sys.stdout.write(reply)
        sys.stdout.flush()
        return 1 if failed() else 0
    from .core.interrupt import EXIT_INTERRUPTED, install, interrupted_by, say

    install()
    from .startup.headstart import begun

    try:
        with begun(sys.argv[1:] if argv is None else argv):
            from .cli import main as run

            code = run(argv)
    except BaseException as exc:  # before a command took over (its own handler says what it stopped)
        if not interrupted_by(exc):
            raise
        say()
        code = EXIT_INTERRUPTED
    if code == 0 and failed():  # typer's own output (help, --version) that did not get out
        code = 1
    if argv is None:  # run as the program, not called from Python: nothing is left to do
        _leave(code)
    return code


def _leave(code: int) -> NoReturn:
    """Exit at once, output flushed, without tearing the interpreter down: freeing every module and
    pydantic's validators one by one took ~0.13 s of a 1 s `build` (measured), for a process that ends
    anyway. Every file, child and temporary folder is closed by then (context managers); nothing of
    ours is registered with atexit."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # closed early by its reader (`… | head`): the command's own result stands
            pass
    os._exit(code)


def _without_typer(argv: list[str]) -> str | None:
    """typer's own answer to a Tab or to the top-level `--help`, when known without loading it."""
    if "_OPENSSL_RECIPES_COMPLETE" in os.environ:
        from .commands import COMMAND_MODULES
        from .startup.completion import answer

        return answer(os.environ, list(COMMAND_MODULES))
    from .startup.help import quick_help

    return quick_help(argv)
