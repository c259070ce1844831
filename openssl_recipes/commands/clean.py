"""`openssl-recipes clean`: remove what the recipe's build writes, and nothing else."""

from __future__ import annotations

import typer

from .common import DEFAULT_RECIPE, OutOption, RecipeOption, handle_errors, load


def register(app: typer.Typer) -> None:
    @app.command("clean")
    @handle_errors
    def clean_command(recipe: RecipeOption = DEFAULT_RECIPE, out: OutOption = None) -> int:
        """Delete the files the recipe declares (keys, requests, certificates, the extension file)
        from the output folder, then the folder if it is empty. Asks nothing; touches nothing else."""
        from ..file_names import LIFECYCLE_FILES, RESERVED_PREFIX, export_files
        from ..openssl import ASSUMED
        from ..plan import build_plan
        from ..script import display_path

        loaded = load(recipe, out, warn=False)
        folder = loaded.output_dir
        plan = build_plan(loaded, ASSUMED)
        names = {name for step in plan.steps for name in step.outputs} | set(plan.files)
        names |= {f"{plan.recipe.ca.cert_file.rsplit('.', 1)[0]}.srl", f"{RESERVED_PREFIX}.lock"}
        names |= set(LIFECYCLE_FILES)  # revoke / crl
        names |= {exported for leaf in loaded.leaves for exported in export_files(leaf.name)}  # export
        removed = 0
        for name in sorted(names):
            path = folder / name
            if path.is_file() or path.is_symlink():
                path.unlink()
                removed += 1
        for leftover in folder.glob(f"{RESERVED_PREFIX}.tmp.*") if folder.is_dir() else []:
            leftover.unlink()
        try:
            folder.rmdir()
            gone = " and the empty folder"
        except OSError:
            gone = ""
        typer.echo(f"removed {removed} files{gone} from {display_path(folder)}")
        return 0
