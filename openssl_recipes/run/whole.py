"""Entries written whole (`bundle`'s sites): a folder tree or one file each, staged, flushed and renamed
into place together; part of the workspace's door (its links, ownership, backups and lock rules)."""

from __future__ import annotations

import errno
import functools
import os
import posixpath
import stat
import time
from pathlib import Path

from ..core.errors import UsageError
from ..core.names import RESERVED_PREFIX
from ..core.reading import TooLarge, read_bounded
from .backups import new_backup
from .workspace import remove_tree, symlink_within

STAGING_PREFIX = f"{RESERVED_PREFIX}.tmp."  # + the pid and the entry's name (`workspace.remove_stale`)

Tree = dict[str, tuple[bytes, int]]  # path inside the entry → (content, mode)
MAX_TREE_FILES = 64
MAX_TREE_BYTES = 4 * 1024 * 1024


def read_entry(folder: Path, name: str) -> Tree | bytes | None:
    """What `folder/name` holds now, as `install_whole` would write it (a tree of files, or one file's
    bytes), or None when it is missing, holds a link, or more than an entry of ours could: read without
    following a link, bounded."""
    path = folder / name
    try:
        found = os.lstat(path)
        if stat.S_ISREG(found.st_mode):
            return read_bounded(path, MAX_TREE_BYTES)
        if not stat.S_ISDIR(found.st_mode):
            return None
        tree: Tree = {}
        return tree if _read_tree(path, "", tree) else None
    except (OSError, TooLarge):
        return None


def _read_tree(folder: Path | str, prefix: str, tree: Tree) -> bool:
    with os.scandir(folder) as entries:
        for entry in entries:
            inside = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                if not _read_tree(entry.path, inside + "/", tree):
                    return False
            elif entry.is_file(follow_symlinks=False) and len(tree) < MAX_TREE_FILES:
                mode = entry.stat(follow_symlinks=False).st_mode & 0o777
                tree[inside] = (read_bounded(entry.path, MAX_TREE_BYTES), mode)
            else:  # a link, a device, or too many files: not what this tool writes
                return False
    return True


class WholeEntries:
    """Entries (a tree of files, or one file) written whole under `folder`: each staged under a temporary
    name as it comes and read back there (`stage`), then all flushed to disk at once and renamed into
    place (`commit`: one sync for the lot, not one per file or per batch — 10 000 sites are 50 000
    files, and each sync stalled the next batch's creations on the journal, measured: 14 s → 41 s).
    An earlier version is kept as NAME.<time>.bak. A name that exists must be in `owned` (written by
    this tool), and is never a link. Used under the folder's lock; what was not committed is removed."""

    def __init__(self, folder: Path, owned: set[str], mode: int = 0o644) -> None:
        self.folder, self.owned, self.mode = folder, owned, mode
        self.staged: dict[str, Path] = {}

    def __enter__(self) -> WholeEntries:
        return self

    def __exit__(self, *exc: object) -> None:
        for temporary in self.staged.values():
            remove_tree(temporary)

    def stage(self, name: str, content: Tree | bytes) -> None:
        if (link := symlink_within(self.folder, name)) is not None:
            raise UsageError(f"{link} is a symbolic link (to {os.readlink(link)}); refusing to replace it; nothing was changed")
        if (self.folder / name).exists() and name not in self.owned:
            raise UsageError(
                f"{self.folder / name} exists and was not written by this command: move it away; nothing was changed"
            )
        temporary = self.folder / f"{STAGING_PREFIX}{os.getpid()}.{name}"
        self.staged[name] = temporary
        _stage(temporary, content, self.mode)
        if read_entry(self.folder, temporary.name) != content:
            raise OSError(errno.EIO, f"{name}: written, but does not read back as written (is the disk full?)")

    def commit(self) -> dict[str, str]:
        """Put every staged entry in place; {name: its earlier version's backup}."""
        os.sync()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        backups = {}
        for name, temporary in list(self.staged.items()):
            if (self.folder / name).exists():
                backups[name] = new_backup(self.folder / name, stamp, functools.partial(_claim_by_rename, self.folder / name))
            os.rename(temporary, self.folder / name)
            del self.staged[name]
        _sync_folder(self.folder)
        return backups


def _stage(path: Path, content: Tree | bytes, mode: int) -> None:
    if isinstance(content, bytes):
        _write_new(path, content, mode)
        return
    folders = {parent for inside in content for parent in _and_parents(posixpath.dirname(inside))}
    for folder in sorted(folders):  # each once, parents first (mkdir -p tries every parent: a third more calls)
        os.mkdir(os.path.join(path, folder), 0o755)
    for inside, (data, file_mode) in sorted(content.items()):
        _write_new(os.path.join(path, inside), data, file_mode)


def _and_parents(folder: str) -> list[str]:
    """`a/b/c` → "", a, a/b, a/b/c (the entry's own folder first)."""
    parts = folder.split("/") if folder else []
    return ["/".join(parts[:i]) for i in range(len(parts) + 1)]


def _write_new(path: str | Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have narrowed it
        _write_all(fd, data)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _claim_by_rename(path: Path, backup: Path) -> None:
    """Move `path` to `backup`, which must not exist (checked under the folder's lock)."""
    if backup.exists() or backup.is_symlink():
        raise FileExistsError(backup)
    os.rename(path, backup)


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
