"""Ctrl-C and SIGTERM as the tool raises them: `Interrupt`, a KeyboardInterrupt of its own.

Why not KeyboardInterrupt itself: CPython 3.11 marks the process to die by SIGINT at exit whenever
exactly KeyboardInterrupt leaves code run by `exec` or `eval` of a string — which dataclasses and
namedtuple do while modules are imported — even when the tool then handles it and returns 130
(measured: 2–3 of 40 interrupts during start-up ended as "killed by SIGINT", some without a word).
Every `except KeyboardInterrupt` still catches a subclass; CPython's check is for the exact type.
"""

from __future__ import annotations

import signal
import sys

EXIT_INTERRUPTED = 130
_said: list[str] = []


class Interrupt(KeyboardInterrupt):
    """SIGINT or SIGTERM, raised in the main thread by `raise_interrupt`."""


def raise_interrupt(signum: int, frame: object) -> None:
    raise Interrupt


def install() -> None:
    """Ctrl-C and SIGTERM raise `Interrupt` (SIGTERM stops a build like Ctrl-C: children stopped,
    partial files removed)."""
    signal.signal(signal.SIGINT, raise_interrupt)
    signal.signal(signal.SIGTERM, raise_interrupt)


def interrupted_by(exc: BaseException | None) -> bool:
    """Whether `exc` is an interrupt or was caused by one: Python 3.11 turns an interrupt that lands
    while a class is being made (`__set_name__`) into a RuntimeError caused by it."""
    for _ in range(20):  # (a chain is short; a cycle is not followed for ever)
        if exc is None or isinstance(exc, SystemExit):
            return False
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return False


def new_run() -> None:
    """A run of the app begins (`cli.main`; tests make many in one process): nothing said yet."""
    _said.clear()


def say(detail: str = "") -> None:
    """Tell the user the run was interrupted, once: the command's handler says what it stopped; typer
    itself turns an interrupt during its option parsing into a silent 130, which `cli.main` reports."""
    if not _said:
        _said.append(detail)
        print(f"interrupted{': ' + detail if detail else ''}", file=sys.stderr)
