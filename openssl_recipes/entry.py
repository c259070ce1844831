"""The console script and `python -m openssl_recipes`: `build`'s head start (its first keys started
before anything heavy is imported), then the typer app."""

from __future__ import annotations

import os
import signal
import sys


def main(argv: list[str] | None = None) -> int:
    # The recipe schema uses no pydantic plugin; looking for them scans every installed package's
    # metadata (~6 ms of each start-up, measured). Set first: the head start's children see it too.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
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
