"""The archive of retired CAs (`CA_ARCHIVE/`): one dated folder per CA that `rotate finish` retired
(its key, certificate and database, 0600, and `retired.json`), or that `rotate abort` dropped. Nothing
in it is ever deleted or written over: each folder's name is new."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from ..core.errors import RunError
from ..core.names import CA_ARCHIVE, ROTATION_DIR
from ..recipe.model import Recipe
from . import workspace


def archive_leftover(folder: Path) -> None:
    """A ROTATION_DIR/ left by a start killed before its commit, or by an abort after it: archived whole."""
    if os.path.lexists(folder / ROTATION_DIR):
        target = archive_dir(folder, "unused")
        target.parent.mkdir(mode=0o700, exist_ok=True)
        os.replace(folder / ROTATION_DIR, target)


def keep(folder: Path, archive: Path, names: list[str], current: Recipe) -> None:
    """Copies of the old CA's files in the archive (0600), and what they were."""
    archive.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder / CA_ARCHIVE, 0o700)
    facts = {"retired": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "files": {}}
    for name in names:
        path = folder / name
        if not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        target = archive / Path(name).name
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if target.read_bytes() != data:  # an output counts only when it reads back
            raise RunError(f"{target} does not read back as {name}: the rotation was not finished")
        facts["files"][Path(name).name] = name
    assert current.rotation is not None
    facts["subject"] = {ca.name: ca.subject for ca in current.rotation.retiring}
    workspace.write_atomically(archive / "retired.json", json.dumps(facts, indent=1) + "\n", 0o600)
    os.sync()


def archive_dir(folder: Path, label: str) -> Path:
    """A new folder's name in the archive: dated, never one that is there (two rotates in a second)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    for attempt in range(1, 1000):
        path = folder / CA_ARCHIVE / f"{stamp}-{label}{'' if attempt == 1 else f'-{attempt}'}"
        if not os.path.lexists(path):
            return path
    raise RunError(f"{folder / CA_ARCHIVE}: a thousand folders named {stamp}-{label}: nothing was done")
