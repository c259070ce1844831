"""The console script and `python -m openssl_recipes`: bash's most common Tabs answered without typer
(quick_completion), `build`'s head start (its first keys started before anything heavy is
imported), then the typer app."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    # The recipe schema uses no pydantic plugin; looking for them scans every installed package's
    # metadata (~6 ms of each start-up, measured). Set first: the head start's children see it too.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if "_OPENSSL_RECIPES_COMPLETE" in os.environ:  # a Tab: answered here when typer is not needed
        from .commands import COMMAND_MODULES
        from .quick_completion import answer

        if (reply := answer(os.environ, list(COMMAND_MODULES))) is not None:
            sys.stdout.write(reply)
            return 0
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    from .headstart import begun

    try:
        with begun(sys.argv[1:] if argv is None else argv):
            from .cli import main as run

            return run(argv)
    except KeyboardInterrupt:  # before a command took over (its own handler says what it stopped)
        print("interrupted", file=sys.stderr)
        return 130


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops a build like Ctrl-C: children stopped, partial files removed
