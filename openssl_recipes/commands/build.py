"""`openssl-recipes build`: run the plan's commands; keep what already exists and is sound."""

from __future__ import annotations

from typing import Annotated

import typer

from ..core.children import MAX_JOBS, default_jobs
from .common import (
    DEFAULT_RECIPE,
    OpensslOption,
    OutOption,
    RecipeOption,
    TemplatesOption,
    err,
    find_openssl,
    handle_errors,
    load,
    say,
)

JobsOption = Annotated[
    int,
    typer.Option("--jobs", "-j", metavar="N", min=1, max=MAX_JOBS, show_default="CPUs + 1", help="Commands run at once."),
]


def register(app: typer.Typer) -> None:
    @app.command(
        "build", epilog="Examples: `openssl-recipes build`; `openssl-recipes build --recipe fleet.yaml --jobs 4 --quiet`."
    )
    @handle_errors
    def build_command(
        recipe_file: RecipeOption = DEFAULT_RECIPE,
        out: OutOption = None,
        openssl: OpensslOption = None,
        templates: TemplatesOption = None,
        jobs: JobsOption = default_jobs(),
        force: Annotated[
            bool, typer.Option("--force", help="Remake every server and client (keys, requests, certificates); the CA stays.")
        ] = False,
        new_ca: Annotated[
            bool,
            typer.Option(
                "--new-ca", help="Replace the CA too (old files kept as .bak): every certificate it signed stops working."
            ),
        ] = False,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the summary; no progress bar.")] = False,
    ) -> int:
        """Run the commands of `plan` (argv lists, no shell) and report what was made and kept."""
        from ..plan.planner import build_plan
        from ..plan.script import display_path
        from ..recipe.secrets import resolve
        from ..run.runner import BuildOptions, build
        from ..startup.headstart import current

        recipe = load(recipe_file, out)
        plan = build_plan(recipe, find_openssl(openssl, recipe), templates)
        values = resolve(recipe.secrets())
        options = BuildOptions(jobs=jobs, force=force, new_ca=new_ca, quiet=quiet)
        report = build(plan, values, options, say=say, head=current())
        from ..check.drift import drifted

        # what was kept from before the recipe changed: said before the summary
        for drift in drifted(recipe, set(report.kept), report.certificates):
            err(f"warning: {drift.line()}")
        say(report.summary(display_path(plan.output_dir)))
        if recipe.trust_file in report.made and recipe.ca.cert_file in report.kept:  # an earlier version's folder: once
            err(
                f"note: peers now trust {recipe.trust_file}, a file apart from the CA that signs (a CA rotation changes "
                f"only its content); render the brokers' configurations again (`conf`, `bundle`) and deploy it"
                + (" (ca-bundle.pem is no longer written)" if recipe.intermediate else "")
            )
        return 0
