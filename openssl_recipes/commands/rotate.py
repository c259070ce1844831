"""`openssl-recipes rotate start|finish|abort`: replace the CA (or its intermediate) in phases, every
peer trusting the old and the new until each leaf is signed again (`run.rotate`)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..core.keys import MAX_DAYS
from .common import DEFAULT_RECIPE, OpensslOption, OutOption, RecipeOption, find_openssl, handle_errors, load, say


class Step(StrEnum):
    start = "start"
    finish = "finish"
    abort = "abort"


def register(app: typer.Typer) -> None:
    @app.command(
        "rotate",
        epilog="Examples: `openssl-recipes rotate start`; `openssl-recipes renew server`; `openssl-recipes rotate finish`.",
    )
    @handle_errors
    def rotate_command(
        step: Annotated[Step, typer.Argument(metavar="STEP", help="start, finish or abort.")],
        recipe_file: RecipeOption = DEFAULT_RECIPE,
        out: OutOption = None,
        openssl: OpensslOption = None,
        intermediate: Annotated[
            bool, typer.Option("--intermediate", help="start: rotate only the issuing intermediate, under the same root.")
        ] = False,
        force: Annotated[
            bool,
            typer.Option(
                "--force", help="finish: even while leaves are under the old CA; abort: even when the new one signed some."
            ),
        ] = False,
        crl_days: Annotated[
            int,
            typer.Option("--crl-days", metavar="DAYS", min=1, max=MAX_DAYS, help="Days until nextUpdate of the CRLs written."),
        ] = 30,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Print the commands and file moves instead of running them.")
        ] = False,
    ) -> int:
        """Replace the CA (or its intermediate) in phases, no peer lost: `start` makes the new CA beside
        the old one and the trust file holds both; `renew` then signs with the new one; `finish`
        retires the old CA (kept in ca-archive/), or `abort` drops the new one."""
        from ..core.errors import UsageError
        from ..run import rotate

        if intermediate and step != Step.start:
            raise UsageError(f"--intermediate is for `rotate start` (a rotation under way knows its scope), not {step.value}")
        if force and step == Step.start:
            raise UsageError("--force is for `rotate finish` and `rotate abort`")
        recipe = load(recipe_file, out)
        out_dir = Path(out) if out else None
        work = rotate.Rotate(recipe, recipe_file, out_dir, find_openssl(openssl, recipe), dry_run, say, crl_days)
        if step == Step.start:
            rotate.start(work, "intermediate" if intermediate else "root")
        elif step == Step.finish:
            rotate.finish(work, force)
        else:
            rotate.abort(work, force)
        return 0
