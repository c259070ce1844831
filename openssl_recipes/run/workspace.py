"""The output folder: created 0700, locked against a second build, checked before any write."""

from __future__ import annotations

import errno
import fcntl
import os
import re
import sys
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..core import process
from ..core.errors import UsageError
from ..core.names import BATCH_DIR, CONFIG_FILE_NAME, RESERVED_PREFIX
from ..plan.steps import NewFile

LOCK_NAME = f"{RESERVED_PREFIX}.lock"
BYTES_PER_FILE = 16 * 1024  # a 16384-bit key is ~13 KiB of PEM; certificates are smaller
MARGIN_BYTES = 64 * 1024


def prepare(folder: Path, writes: list[str], pem: list[str] | None = None) -> None:
    """Create the folder (0700) if needed; refuse a folder that cannot take the writes: a symbolic link
    at any of them, or a file that is not PEM at one of `pem` (default: every write but the extension
    file and serial files) — the tool did not make it."""
    checked = set(pem) if pem is not None else {n for n in writes if n != CONFIG_FILE_NAME and not n.endswith(".srl")}
    checked = {n for n in checked if not n.startswith(f"{BATCH_DIR}/")}  # (a run's own, removed at its end)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"output {folder} exists and is not a folder")
    if not folder.exists():
        try:
            folder.mkdir(mode=0o700, parents=True)
        except FileExistsError:
            pass  # another build made it a moment ago (it waits for the lock below)
        except OSError as exc:
            raise UsageError(f"cannot create output folder {folder}: {exc.strerror}") from None
        if not folder.is_dir():
            raise UsageError(f"output {folder} exists and is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"output folder {folder} is not writable (read-only disk or permissions); nothing was changed")
    for name in writes:
        target = folder / name
        if link := symlink_within(folder, name):
            raise UsageError(f"{link} is a symbolic link (to {os.readlink(link)}); refusing to write through it")
        if name in checked and not _could_be_ours(target):
            raise UsageError(
                f"{target} exists and is not a PEM file, so this tool did not make it; it would be overwritten: "
                "move it away, or give the entry another file name in the recipe; nothing was changed"
            )
    stats = os.statvfs(folder)
    free = stats.f_bavail * stats.f_frsize
    need = MARGIN_BYTES + BYTES_PER_FILE * len(writes)
    if free < need:
        raise UsageError(
            f"output folder {folder} has {free // 1024} KiB free; the build needs about {need // 1024} KiB; nothing was changed"
        )


def symlink_within(folder: Path, name: str) -> Path | None:
    """The first symbolic link on the way from `folder` to `name` (a folder such as ca-database/, or the
    file itself), or None: the tool writes and deletes nothing through a link."""
    path = folder
    for part in Path(name).parts:
        path = path / part
        if path.is_symlink():
            return path
    return None


def _could_be_ours(path: Path) -> bool:
    """Missing, empty (an interrupted openssl), or PEM (whole or cut short): what a build may replace."""
    try:
        with path.open("rb") as handle:
            head = handle.read(11)
    except OSError:
        return True  # missing; or unreadable, or a folder: the build's own checks report it
    return head == b"" or head == b"-----BEGIN "[: len(head)]


@contextmanager
def locked(folder: Path, announce: bool = True) -> Iterator[None]:
    """Hold an exclusive lock on the folder; a second command waits for the first. Every command that
    writes or deletes in the folder holds it (`clean` too). Held already by this process (a `rotate`
    that builds), it is held on: a second flock on another descriptor would wait for itself."""
    key = os.path.realpath(folder)
    if key in _HELD:
        yield
        return
    fd = _lock(folder, announce)
    _HELD.add(key)
    try:
        with process.inherit(fd):  # openssl children hold it too, even when this process is killed
            yield
    finally:
        _HELD.discard(key)
        os.close(fd)


_HELD: set[str] = set()  # the folders whose lock this process holds


def _lock(folder: Path, announce: bool) -> int:
    """The locked descriptor of the folder's lock file. A `clean` that held it removes the file (and an
    emptied folder) before it lets go: a waiter then holds a lock nobody else sees, so it takes the
    lock again on the file that is there now."""
    while True:
        try:
            fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except FileNotFoundError:  # the folder went with a clean: make it again
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            continue
        except OSError as exc:
            os_error = exc.strerror
            raise UsageError(f"{folder / LOCK_NAME}: cannot take the folder's lock: {os_error}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise
            _announce_holders(folder, announce)
            announce = False
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.fstat(fd).st_ino == os.stat(folder / LOCK_NAME, follow_symlinks=False).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


def _announce_holders(folder: Path, announce: bool) -> None:
    """Say who holds the lock; stop the orphaned openssl children of a command killed with kill -9
    (the lock is then free, or soon: what waits next is a live command)."""
    from .holders import holders, stop_orphans

    found = holders(folder / LOCK_NAME)
    stopped = stop_orphans(found)
    if stopped:
        parents = sorted({str(h.orphaned_from) for h in stopped})
        print(
            f"the lock of {folder} was held by openssl children of openssl-recipes {', '.join(parents)}, which no longer"
            f" runs: stopped {', '.join(h.describe() for h in stopped)}; what they were writing is made again",
            file=sys.stderr,
        )
    others = [h for h in found if h not in stopped]
    if announce and (others or not stopped):
        running = f" ({', '.join(h.describe() for h in others)})" if others else ""
        print(f"another build is running in {folder}{running}; waiting for it to finish…", file=sys.stderr)


def write_atomically(path: Path, content: str, mode: int = 0o644, sync: bool = True) -> bool:
    """Write via a temporary file and rename; created with `mode` from its first byte.
    Returns False (and writes nothing) when the file already holds exactly `content`; its mode is made
    `mode` all the same (an identical file at 0644 that holds a key password becomes 0600). `sync`
    off: the caller syncs once for many files (a batch's certificates)."""
    try:
        if path.read_text(encoding="utf-8") == content and not path.is_symlink():
            if path.stat().st_mode & 0o777 != mode:
                os.chmod(path, mode)
            return False
    except (OSError, UnicodeDecodeError):
        pass
    tmp = path.with_name(f"{RESERVED_PREFIX}.tmp.{os.getpid()}.{path.name}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)  # the umask may have narrowed it; never wider than asked
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True


def write_files(folder: Path, files: Mapping[str, NewFile]) -> None:
    """The files a command writes itself before its steps (a configuration, an empty CA database):
    each atomically, its folder made (0700) first; one that is not to be replaced only when absent
    (openssl keeps it from then on)."""
    for name, new in files.items():
        if new.replace or not (folder / name).exists():
            for parent in reversed(Path(name).parents[:-1]):  # (a batch's folder is in the batches' folder)
                (folder / parent).mkdir(mode=0o700, exist_ok=True)
            write_atomically(folder / name, new.content, new.mode)


def concatenate(folder: Path, parts: tuple[str, ...] | list[str], target: str) -> None:
    """`cat parts > target`, atomically (certificate bundles and chains)."""
    text = "".join((folder / name).read_text(encoding="ascii") for name in parts)
    write_atomically(folder / target, text, 0o644)


def remove_stale(folder: Path, prefix: str) -> None:
    """What a killed command of this tool left in `folder`: the entries named `prefix<pid>…` whose
    process is gone (a head start's private folder, a bundle's staged site)."""
    for path in folder.glob(f"{prefix}*"):
        pid = re.match(r"\d+", path.name[len(prefix) :])
        if pid and not process.alive(int(pid.group())):
            remove_tree(path)


def remove_tree(path: Path) -> None:
    import shutil

    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
