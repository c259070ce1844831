"""Ctrl-C and SIGTERM as the tool raises them: `Interrupt`, a KeyboardInterrupt of its own.

Why not KeyboardInterrupt itself: CPython 3.11 marks the process to die by SIGINT at exit whenever
exactly KeyboardInterrupt leaves code run by `exec` or `eval` of a string — which dataclasses and
namedtuple do while modules are imported — even when the tool then handles it and returns 130
(measured: 2–3 of 40 interrupts during start-up ended as "killed by SIGINT", some without a word).
Every `except KeyboardInterrupt` still catches a subclass; CPython's check is for the exact type.

Two more ways an interrupt is lost, both measured under load in start-up: Python drops an exception
raised in a weakref callback or a `__del__` (the handler ran in importlib's module-lock callback: the
build went on and waited for its held openssl), and pydantic-core wraps one raised while it builds a
validator into a SchemaError. So a received signal is remembered: a dropped one is raised again at
the next `check()` (the build's wait loop calls it), and whatever exception follows a received one
is that interrupt's consequence, not a bug.
"""

from __future__ import annotations

import signal
import sys

EXIT_INTERRUPTED = 130
_said: list[str] = []
_received: list[int] = []  # the signals this process received (see `interrupted_by`)
_dropped: list[int] = []  # those Python dropped where they landed (see `check`)


class Interrupt(KeyboardInterrupt):
    """SIGINT or SIGTERM, raised in the main thread by `raise_interrupt`."""


def raise_interrupt(signum: int, frame: object) -> None:
    _received.append(signum)
    raise Interrupt


def install() -> None:
    """Ctrl-C and SIGTERM raise `Interrupt` (SIGTERM stops a build like Ctrl-C: children stopped,
    partial files removed); one Python drops is kept for `check`."""
    signal.signal(signal.SIGINT, raise_interrupt)
    signal.signal(signal.SIGTERM, raise_interrupt)
    sys.unraisablehook = _keeping_interrupts(sys.unraisablehook)


def _keeping_interrupts(previous):  # noqa: ANN001, ANN202 - sys.unraisablehook's own shape
    def hook(unraisable) -> None:  # noqa: ANN001
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            _dropped.append(1)  # said nothing: `check` raises it where the tool can handle it
        else:
            previous(unraisable)

    return hook


def check() -> None:
    """Raise an interrupt that Python dropped where it landed (a weakref callback, a `__del__`)."""
    if _dropped:
        _dropped.clear()
        raise Interrupt


def interrupted_by(exc: BaseException | None) -> bool:
    """Whether `exc` is an interrupt or was caused by one: Python 3.11 turns an interrupt that lands
    while a class is being made (`__set_name__`) into a RuntimeError caused by it, pydantic-core one
    that lands while it builds a validator into a SchemaError (which names no cause): after a signal,
    any exception but SystemExit is taken for its consequence."""
    if _received and exc is not None and not isinstance(exc, SystemExit):
        return True
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
