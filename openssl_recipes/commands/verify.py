"""`openssl-recipes verify`: check every certificate of the recipe before it is deployed."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ..core.keys import MAX_DAYS
from .common import DEFAULT_RECIPE, OpensslOption, OutOption, RecipeOption, find_openssl, handle_errors, load, say


def register(app: typer.Typer) -> None:
    @app.command("verify", epilog="Examples: `openssl-recipes verify`; from cron, `openssl-recipes verify --within 30 --json`.")
    @handle_errors
    def verify_command(
        recipe_file: RecipeOption = DEFAULT_RECIPE,
        out: OutOption = None,
        openssl: OpensslOption = None,
        warn_days: Annotated[
            int,
            typer.Option(
                "--warn-days", metavar="DAYS", min=0, max=MAX_DAYS, help="Warn when a certificate expires within this many days."
            ),
        ] = 30,
        as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
        crl: Annotated[bool, typer.Option("--crl", help="Also check the leaves against crl.pem (see `revoke`, `crl`).")] = False,
        within: Annotated[
            int | None,
            typer.Option(
                "--within",
                metavar="DAYS",
                min=0,
                max=MAX_DAYS,
                help="Fail (exit 1) when a certificate expires within this many days: for cron.",
            ),
        ] = None,
    ) -> int:
        """Check each certificate: key matches, chain (-x509_strict, purpose), names, dates, key file
        mode, NanoMQ key form. Exit 0 only if nothing failed (warnings do not fail)."""
        from ..check.verify import verify
        from ..recipe.secrets import resolve

        recipe = load(recipe_file, out, warn=False)
        from ..plan.lifecycle import CRL_FILE

        report = verify(
            recipe,
            find_openssl(openssl, recipe).command,
            resolve(recipe.secrets(), confirm=False),
            warn_days,
            crl=CRL_FILE if crl else None,
            within=within,
        )
        say(json.dumps(report.as_json(), indent=2, ensure_ascii=False) if as_json else report.table(), nl=as_json)
        return 0 if report.ok else 1
