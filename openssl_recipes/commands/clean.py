"""`openssl-recipes clean`: remove what the recipe's commands wrote, and nothing else."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import DEFAULT_RECIPE, OutOption, RecipeOption, handle_errors, load


def register(app: typer.Typer) -> None:
    @app.command("clean", epilog="Examples: `openssl-recipes clean`; `openssl-recipes clean --all`.")
    @handle_errors
    def clean_command(
        recipe_file: RecipeOption = DEFAULT_RECIPE,
        out: OutOption = None,
        everything: Annotated[
            bool, typer.Option("--all", help="Also remove the revocation database (which certificates were revoked).")
        ] = False,
    ) -> int:
        """Delete the files the recipe's commands write (keys, requests, certificates, the extension
        file, exports, crl.pem) from the output folder and list them; the revocation database stays
        unless --all. Then the folder, if it is empty. Asks nothing; touches nothing else."""
        from ..core.names import CA_DIR, RESERVED_PREFIX
        from ..core.openssl import ASSUMED
        from ..plan.ownership import REVOCATION_DATABASE, owned_files
        from ..plan.planner import build_plan
        from ..plan.script import display_path

        recipe = load(recipe_file, out, warn=False)
        folder = recipe.output_dir
        owned = owned_files(build_plan(recipe, ASSUMED))
        removed, kept = [], []
        for name, writer in sorted(owned.items()):
            path = folder / name
            if not (path.is_file() or path.is_symlink()):
                continue
            if writer == REVOCATION_DATABASE and not everything:
                kept.append(name)
                continue
            path.unlink()
            if not name.startswith(RESERVED_PREFIX):
                removed.append(name)
        for leftover in folder.glob(f"{RESERVED_PREFIX}.tmp.*") if folder.is_dir() else []:
            leftover.unlink()
        for empty in (folder / CA_DIR, folder):
            try:
                empty.rmdir()
            except OSError:
                pass
        shown = display_path(folder)
        typer.echo(f"removed {len(removed)} files from {shown}" + (f": {', '.join(removed)}" if removed else ""))
        if kept:
            typer.echo(f"kept {REVOCATION_DATABASE} ({CA_DIR}/): clean --all removes it too")
        if not folder.exists():
            typer.echo(f"removed the empty folder {shown}")
        return 0
