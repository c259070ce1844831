"""`clean`: remove what the recipe's commands wrote (`plan.ownership`), and nothing else, under the
folder's lock; then the folder, if that left it empty."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from ..core.names import BATCH_DIR, CA_DIR, RESERVED_PREFIX, ROTATION_DIR
from ..core.openssl import ASSUMED
from ..plan.ownership import REVOCATION_DATABASE, owned_files
from ..plan.planner import build_plan
from ..recipe.model import Recipe
from .workspace import LOCK_NAME, locked, symlink_within


@dataclass
class Cleaned:
    removed: list[str] = field(default_factory=list)  # the recipe's files (not the tool's private ones)
    kept_database: bool = False  # the revocation database stayed (without `everything`)
    links: list[str] = field(default_factory=list)  # symbolic links at owned names: not the tool's, kept
    folder_removed: bool = False


def clean(recipe: Recipe, everything: bool) -> Cleaned:
    """Remove the files the recipe's commands write; the revocation database too when `everything`.
    Under the folder's lock (a build running now finishes first); through no symbolic link, and no
    link itself: the tool makes none, so one at an owned name is the user's."""
    folder = recipe.output_dir
    done = Cleaned()
    if not folder.is_dir():
        return done
    with locked(folder, announce=True):
        for name, writer in sorted(owned_files(build_plan(recipe, ASSUMED)).items()):
            if name == LOCK_NAME:
                continue  # removed last, while still held
            path = folder / name
            if link := symlink_within(folder, name):
                if link == path or link.parent == folder:
                    done.links.append(str(link.relative_to(folder)))
                continue
            if not path.is_file():
                continue
            if writer == REVOCATION_DATABASE and not everything:
                done.kept_database = True
                continue
            path.unlink()
            if not name.startswith(RESERVED_PREFIX):
                done.removed.append(name)
        for leftover in folder.glob(f"{RESERVED_PREFIX}.tmp.*"):
            if leftover.is_file() and not leftover.is_symlink():
                leftover.unlink()
        batches = (
            sorted((p for p in (folder / BATCH_DIR).glob("*") if p.is_dir()), reverse=True)
            if not symlink_within(folder, BATCH_DIR)
            else []
        )
        places = (*dict.fromkeys(ca.database_dir for ca in (*recipe.issuers, recipe.ca)), CA_DIR, ROTATION_DIR)
        for emptied in (*places, *(str(p.relative_to(folder)) for p in batches), BATCH_DIR):
            with contextlib.suppress(OSError):
                if not symlink_within(folder, emptied):
                    (folder / emptied).rmdir()
        (folder / LOCK_NAME).unlink(missing_ok=True)  # last, still held: a waiter takes a new one (`locked`)
        with contextlib.suppress(OSError):
            folder.rmdir()
    done.links = sorted(set(done.links))
    done.folder_removed = not folder.exists()
    return done
