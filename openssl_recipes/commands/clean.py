"""`openssl-recipes clean`: remove what the recipe's commands wrote, and nothing else."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import DEFAULT_RECIPE, OutOption, RecipeOption, handle_errors, load, say


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
        from ..core.names import CA_DIR
        from ..plan.ownership import REVOCATION_DATABASE
        from ..plan.script import display_path
        from ..run.clean import clean

        recipe = load(recipe_file, out, warn=False)
        done = clean(recipe, everything)
        shown = display_path(recipe.output_dir)
        say(f"removed {len(done.removed)} files from {shown}" + (f": {', '.join(done.removed)}" if done.removed else ""))
        if done.links:
            say(f"kept {', '.join(done.links)}: symbolic links, which this tool never makes; remove them yourself")
        if done.kept_database:
            say(f"kept {REVOCATION_DATABASE} ({CA_DIR}/): clean --all removes it too")
        if done.folder_removed:
            say(f"removed the empty folder {shown}")
        return 0
