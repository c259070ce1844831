"""`clean`: remove what the recipe's commands wrote (`plan.ownership`), and nothing else; then the
folder, if that left it empty."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.names import CA_DIR, RESERVED_PREFIX
from ..core.openssl import ASSUMED
from ..plan.ownership import REVOCATION_DATABASE, owned_files
from ..plan.planner import build_plan
from ..recipe.model import Recipe


@dataclass
class Cleaned:
    removed: list[str] = field(default_factory=list)  # the recipe's files (not the tool's private ones)
    kept_database: bool = False  # the revocation database stayed (without `everything`)
    folder_removed: bool = False


def clean(recipe: Recipe, everything: bool) -> Cleaned:
    """Remove the files the recipe's commands write; the revocation database too when `everything`."""
    folder = recipe.output_dir
    done = Cleaned()
    for name, writer in sorted(owned_files(build_plan(recipe, ASSUMED)).items()):
        path = folder / name
        if not (path.is_file() or path.is_symlink()):
            continue
        if writer == REVOCATION_DATABASE and not everything:
            done.kept_database = True
            continue
        path.unlink()
        if not name.startswith(RESERVED_PREFIX):
            done.removed.append(name)
    for leftover in folder.glob(f"{RESERVED_PREFIX}.tmp.*") if folder.is_dir() else []:
        leftover.unlink()
    for empty in (folder / CA_DIR, folder):
        try:
            empty.rmdir()
        except OSError:
            pass
    done.folder_removed = not folder.exists()
    return done
