"""`bundle --playbook DIR`: the Ansible playbook shipped with the package (`deploy/install-bundles.yml`),
copied through the same guarded path as every other write (an earlier, different copy kept as a backup)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..core.errors import RunError, UsageError
from .backups import replace_keeping_backup
from .workspace import symlink_within

PLAYBOOK = Path(__file__).resolve().parent.parent / "deploy" / "install-bundles.yml"


def playbook_text() -> str:
    return PLAYBOOK.read_text(encoding="utf-8")


def copy_playbook(folder: Path, say: Callable[[str], None]) -> Path:
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--playbook {folder}: not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    if (link := symlink_within(folder, PLAYBOOK.name)) is not None:
        raise UsageError(f"{link} is a symbolic link; refusing to write through it")
    target = folder / PLAYBOOK.name
    try:
        backup = replace_keeping_backup(target, playbook_text(), 0o644)
    except OSError as exc:
        raise RunError(f"--playbook {folder}: cannot write {PLAYBOOK.name}: {exc.strerror}") from None
    say(f"wrote {target}" + (f" (previous version in {backup})" if backup else ""))
    return target
