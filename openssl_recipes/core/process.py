"""The one way this package starts a process: argv list, no shell, umask 077, output captured.

Live children are tracked so an interrupt can stop them all before the tool exits.
"""

from __future__ import annotations

import errno
import os
import subprocess
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

_live: set[subprocess.Popen[bytes]] = set()
_live_lock = threading.Lock()
_inherited: set[int] = set()  # the output folder's lock, while held (see `inherit`)
_stopping: list[bool] = []  # while `stopping` stops them all: a worker between two steps starts no more children


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", "replace").strip()

    def stdout_text(self) -> str:
        return self.stdout.decode("utf-8", "replace")


class Running:
    """A child started with `start`, not waited for yet (tracked like any other: `stop_all` stops it)."""

    def __init__(self, argv: tuple[str, ...], proc: subprocess.Popen[bytes]) -> None:
        self.argv = argv
        self.proc = proc

    def finish(self, timeout: float | None = 600, stdin: bytes | None = None) -> Result:
        """Wait for it (after writing `stdin`, if any); never raises for a non-zero exit."""
        try:
            out, err = self.proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            err = (err or b"") + f"\n(stopped after {timeout} s)".encode()
        except BaseException:  # Ctrl-C while waiting (in the main thread): the child does not outlive it
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            with _live_lock:
                _live.discard(self.proc)
        return Result(self.argv, self.proc.returncode, out or b"", err or b"")

    def stop(self) -> None:
        """Terminate it (if still running) and reap it."""
        if self.proc.poll() is None:
            self.proc.terminate()
        self.finish(timeout=5)


def adopt_child(argv: tuple[str, ...], proc: subprocess.Popen[bytes]) -> Running:
    """A child started elsewhere (`startup.headstart`, before this module was loaded), tracked from now on."""
    with _live_lock:
        _live.add(proc)
    return Running(tuple(argv), proc)


def run(
    argv: tuple[str, ...] | list[str],
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
    interactive: bool = False,
    timeout: float | None = 600,
) -> Result:
    """Run argv; never raises for a non-zero exit (the caller decides), raises OSError if it cannot start
    (ECANCELED while `stopping`: the command is being stopped)."""
    with _live_lock:
        if _stopping:
            raise OSError(errno.ECANCELED, "not started: the command is being stopped", argv[0])
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=None if interactive else (subprocess.PIPE if stdin is not None else subprocess.DEVNULL),
            stdout=None if interactive else subprocess.PIPE,
            stderr=None if interactive else subprocess.PIPE,
            umask=0o077,  # keys are 0600 from their first byte
            pass_fds=tuple(_inherited),
        )
        _live.add(proc)
    return Running(tuple(argv), proc).finish(timeout, stdin)


@contextmanager
def inherit(fd: int) -> Iterator[None]:
    """Children started meanwhile hold `fd` too: a lock on it lasts until the last of them exits, so
    an openssl orphaned by `kill -9` of this tool keeps the next build waiting until its file is whole."""
    with _live_lock:
        _inherited.add(fd)
    try:
        yield
    finally:
        with _live_lock:
            _inherited.discard(fd)


@contextmanager
def stopping() -> Iterator[int]:
    """`with stopping() as stopped:` every live child terminated (on Ctrl-C), `stopped` of them, and none
    started until the block ends (a worker thread that was about to start its next step's openssl)."""
    with _live_lock:
        _stopping.append(True)
    try:
        yield stop_all()
    finally:
        with _live_lock:
            _stopping.clear()


def stop_all() -> int:
    """Terminate every live child (on Ctrl-C); return how many there were."""
    with _live_lock:
        procs = list(_live)
    for proc in procs:
        try:
            proc.terminate()
        except ProcessLookupError:
            pass
    for proc in procs:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return len(procs)


def alive(pid: int) -> bool:
    """The process exists and has not exited: a zombie (exited, not yet reaped by its parent) holds
    no file and writes nothing."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True
