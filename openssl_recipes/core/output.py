"""Standard output that cannot stop a command: every writer (our own lines, typer's help, rich's tree)
goes through one guarded stream. A reader that went away (`build | head -1`) is no error; any other
failure (a full disk, an I/O error) is said once on stderr and makes the exit code 1 once the work is
done; a stdout closed from the start (`>&-`) is the user's /dev/null. The work itself never stops
half-way because of what it prints.
"""

from __future__ import annotations

import io
import os
import sys
from typing import TextIO

READER_GONE = ""  # the failure of a pipe whose reader left: not an error


class _State:
    failed: str | None = None  # why standard output failed, READER_GONE when its reader left
    quiet_closed = False  # fd 1 was closed when the process started (`>&-`): output not wanted


state = _State()


def guard_standard_streams() -> None:
    """Before anything opens a file: a closed fd 0, 1 or 2 is given /dev/null, so that no key, lock or
    child's output ever takes its number (and is written by a `print`); then stdout is guarded."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            opened = os.open(os.devnull, os.O_RDWR)
            if opened != fd:  # (the lowest free number: fd itself, when the ones below are open)
                os.dup2(opened, fd)
                os.close(opened)
            if fd == 1:
                state.quiet_closed = True
    if sys.stdout is None or sys.stdout.closed:
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 - for the whole process
    if sys.stderr is None or sys.stderr.closed:
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    if not isinstance(sys.stdout, Guarded):
        sys.stdout = Guarded(sys.stdout)


def failed() -> bool:
    """Standard output lost something the command printed (not a reader that left early)."""
    return bool(state.failed)


def reader_left() -> bool:
    return state.failed is not None


class Guarded(io.TextIOBase):
    """A text stream over the real stdout that never raises: a failure is recorded (and said once)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if state.failed is None:
            try:
                self._stream.write(text)
            except BaseException as exc:
                self._failed_with(exc)
        return len(text)

    def flush(self) -> None:
        if state.failed is None:
            try:
                self._stream.flush()
            except BaseException as exc:
                self._failed_with(exc)

    def _failed_with(self, exc: BaseException) -> None:
        if isinstance(exc, BrokenPipeError):
            self._fail(READER_GONE)
        elif isinstance(exc, (OSError, ValueError)):  # ValueError: a closed file
            self._fail(getattr(exc, "strerror", None) or str(exc))
        else:
            raise exc

    def _fail(self, why: str) -> None:
        if state.failed is not None:
            return
        state.failed = why
        if why:
            print(f"error: cannot write to standard output: {why}; the work goes on, what it prints is lost", file=sys.stderr)
        try:  # what is still buffered goes nowhere, and so does whatever a child would print
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass
        self._stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the rest of the process

    def isatty(self) -> bool:
        return not state.quiet_closed and self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._stream, "errors", None)
