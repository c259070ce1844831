"""Who holds the folder's lock, when a command finds it taken: the processes with the lock file open
(/proc/PID/fd), each told apart as the tool's own openssl children of a command that no longer exists
(their environment names the parent, `core.children.OWNER_VARIABLE`) or anything else. The orphans of
a command killed with kill -9 are stopped (they would finish a key the next build has already replaced);
anything else is waited for."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from ..core.children import OWNER_VARIABLE
from ..core.process import alive

PROC = Path("/proc")


@dataclass(frozen=True)
class Holder:
    pid: int
    command: str  # its argv, as /proc shows it
    orphaned_from: int | None  # the tool's pid it was started by, when that process is gone

    def describe(self) -> str:
        return f"{self.pid} ({self.command[:60]})"


def holders(lock: Path) -> list[Holder]:
    """The other processes that have `lock` open (none where /proc cannot say)."""
    try:
        wanted = os.stat(lock)
    except OSError:
        return []
    found = []
    for entry in _pids():
        if entry == os.getpid():
            continue
        if any(_same(fd, wanted) for fd in _fds(entry)):
            found.append(Holder(entry, _command(entry), _orphaned_from(entry)))
    return found


def stop_orphans(found: list[Holder], grace: float = 5.0) -> list[Holder]:
    """SIGTERM each orphan, SIGKILL what is left after `grace` seconds; the ones stopped."""
    orphans = [holder for holder in found if holder.orphaned_from is not None]
    for holder in orphans:
        _signal(holder.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(alive(h.pid) for h in orphans) and time.monotonic() < deadline:
        time.sleep(0.02)
    for holder in orphans:
        _signal(holder.pid, signal.SIGKILL)
    return orphans


def _pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir(PROC) if name.isdigit()]
    except OSError:
        return []


def _fds(pid: int) -> list[Path]:
    try:
        return [PROC / str(pid) / "fd" / name for name in os.listdir(PROC / str(pid) / "fd")]
    except OSError:  # gone, or not ours to see
        return []


def _same(fd: Path, wanted: os.stat_result) -> bool:
    try:
        found = os.stat(fd)
    except OSError:
        return False
    return (found.st_dev, found.st_ino) == (wanted.st_dev, wanted.st_ino)


def _command(pid: int) -> str:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()[:4096]
    except OSError:
        return "?"
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part) or "?"


def _orphaned_from(pid: int) -> int | None:
    """The tool's pid in its environment, when that process no longer exists (else None)."""
    try:
        environ = (PROC / str(pid) / "environ").read_bytes()[: 1024 * 1024]
    except OSError:
        return None
    for item in environ.split(b"\0"):
        name, _, value = item.partition(b"=")
        if name == OWNER_VARIABLE.encode() and value.isdigit():
            parent = int(value)
            return parent if not alive(parent) else None
    return None


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
