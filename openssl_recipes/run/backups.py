"""Backups: a file the tool replaces or a failed run would lose is kept as NAME.<time>.bak first, never
over an earlier backup, and put back when the run fails."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from pathlib import Path

from ..core.errors import UsageError
from .workspace import symlink_within, write_atomically


def replace_keeping_backup(path: Path, content: str, mode: int) -> str | None:
    """Write `path` atomically; an earlier version, if any, stays as PATH.<time>.bak (a new name each
    time, never over an earlier backup). Returns the backup's name, or None (new file, or no change)."""
    if path.exists():
        try:
            if path.read_text(encoding="utf-8") == content:
                write_atomically(path, content, mode)  # (only its mode)
                return None
        except (OSError, UnicodeDecodeError):
            pass
        backup = _link_new_backup(path, time.strftime("%Y%m%d-%H%M%S"))
        try:
            write_atomically(path, content, mode)
        except BaseException:
            Path(path.with_name(backup)).unlink(missing_ok=True)
            raise
        return backup
    write_atomically(path, content, mode)
    return None


def set_aside(folder: Path, names: list[str]) -> dict[str, str]:
    """Rename existing files to FILE.<time>.bak (so a build makes them again); returns {name: backup}."""
    for name in names:  # a link is the user's: moved away it would be "replaced" all the same
        if link := symlink_within(folder, name):
            raise UsageError(f"{link} is a symbolic link (to {os.readlink(link)}); refusing to replace it; nothing was changed")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    moved = {name: _move_to_new_backup(folder / name, stamp) for name in names if (folder / name).exists()}
    return {name: str(Path(name).with_name(backup)) for name, backup in moved.items()}  # (relative to folder)


def copy_aside(folder: Path, names: list[str]) -> dict[str, str]:
    """Copy existing files to FILE.<time>.bak (the originals stay for a step that changes them in place,
    such as openssl ca's database, which it empties on a full disk); returns {name: backup}."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    copies = {}
    for name in names:
        path = folder / name
        if not path.is_file() or path.is_symlink():
            continue
        data, mode = path.read_bytes(), path.stat().st_mode & 0o777

        def write_copy(backup: Path, data: bytes = data, mode: int = mode) -> None:
            fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)  # FileExistsError: taken
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
            except BaseException:
                backup.unlink(missing_ok=True)
                raise

        copies[name] = str(Path(name).with_name(new_backup(path, stamp, write_copy)))
    return copies


def restore(folder: Path, backups: dict[str, str]) -> list[str]:
    """Put backups made by `set_aside` or `copy_aside` back under their names (after a failed run); the names restored."""
    restored = []
    for name, backup in backups.items():
        if (folder / backup).exists():
            os.replace(folder / backup, folder / name)
            restored.append(name)
    return restored


def _move_to_new_backup(path: Path, stamp: str) -> str:
    """Move `path` to NAME.<stamp>.bak, or NAME.<stamp>-2.bak, … : never over an earlier backup (two
    runs in one second must not lose the first one's CA key)."""
    backup = _link_new_backup(path, stamp)
    path.unlink()
    return backup


def _link_new_backup(path: Path, stamp: str) -> str:
    """A second name for `path`, NAME.<stamp>.bak (or -2, -3, …); a hard link claims it atomically."""
    return new_backup(path, stamp, lambda backup: os.link(path, backup, follow_symlinks=False))


def new_backup(path: Path, stamp: str, claim: Callable[[Path], None]) -> str:
    """The first of NAME.<stamp>.bak, NAME.<stamp>-2.bak, … that `claim` makes (it raises
    FileExistsError for a name taken): never over an earlier backup. Its name, beside `path`."""
    for attempt in itertools.count(1):
        backup = path.with_name(f"{path.name}.{stamp}{'' if attempt == 1 else f'-{attempt}'}.bak")
        try:
            claim(backup)
        except FileExistsError:
            continue
        return backup.name
    raise AssertionError("unreachable")
