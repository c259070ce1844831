"""`openssl-recipes plan`: print the commands a build runs (dry run), or a standalone script."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import (
    DEFAULT_RECIPE,
    OpensslOption,
    OutOption,
    RecipeOption,
    TemplatesOption,
    find_openssl,
    handle_errors,
    load,
    say,
)


def register(app: typer.Typer) -> None:
    @app.command("plan", epilog="Examples: `openssl-recipes plan`; `openssl-recipes plan --script > make-pki.sh`.")
    @handle_errors
    def plan_command(
        recipe_file: RecipeOption = DEFAULT_RECIPE,
        out: OutOption = None,
        openssl: OpensslOption = None,
        templates: TemplatesOption = None,
        script: Annotated[bool, typer.Option("--script", help="Print a standalone bash script instead.")] = False,
        assume_openssl3: Annotated[
            bool, typer.Option("--assume-openssl3", help="Plan for OpenSSL 3 without running `openssl version`.")
        ] = False,
    ) -> int:
        """Print every command `build` would run, in order, shell-quoted; passwords only by reference."""
        from ..plan.planner import build_plan
        from ..plan.script import plan_chunks, plan_script

        recipe = load(recipe_file, out)
        plan = build_plan(recipe, find_openssl(openssl, recipe, probe=not assume_openssl3), templates)
        for chunk in [plan_script(plan)] if script else plan_chunks(plan):
            if not say(chunk, nl=False):  # the reader stopped reading (`plan | head`): nothing left to do
                break
        return 0
