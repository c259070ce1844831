"""`openssl-recipes sign`: sign certificate requests made on devices with the recipe's issuing CA."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from .common import DEFAULT_RECIPE, OpensslOption, OutOption, RecipeOption, find_openssl, handle_errors, load, say


class SignAs(StrEnum):
    client = "client"
    server = "server"


def register(app: typer.Typer) -> None:
    @app.command(
        "sign",
        epilog="Examples: `openssl-recipes sign --csr sensor-7.csr --as client`; "
        "`openssl-recipes sign --csr-dir requests/ --as client --days 365`.",
    )
    @handle_errors
    def sign_command(
        role: Annotated[SignAs, typer.Option("--as", help="The role the certificate is for: client or server.")],
        csr: Annotated[
            Path | None, typer.Option("--csr", metavar="FILE", help="A certificate request (PEM) made on a device.")
        ] = None,
        csr_dir: Annotated[
            Path | None,
            typer.Option(
                "--csr-dir", metavar="DIR", help="Sign every *.csr in this folder (skips those already signed and valid)."
            ),
        ] = None,
        name: Annotated[
            str | None, typer.Option("--name", metavar="NAME", help="The certificate's name (default: the request's CN).")
        ] = None,
        san: Annotated[
            list[str] | None, typer.Option("--san", metavar="NAME", help="A subject alternative name (repeat; servers).")
        ] = None,
        days: Annotated[int, typer.Option("--days", metavar="DAYS", min=1, max=36500, help="Validity in days.")] = 825,
        recipe_file: RecipeOption = DEFAULT_RECIPE,
        out: OutOption = None,
        openssl: OpensslOption = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the commands instead of running them.")] = False,
    ) -> int:
        """Sign a request made on a device (its key never leaves it) with the recipe's issuing CA and the
        strict extensions of its role — whatever the request asks for — writing NAME.pem (and
        NAME-chain.pem with an intermediate). The request's signature and key strength are checked first."""
        from ..core.errors import UsageError
        from ..run.sign import sign

        if (csr is None) == (csr_dir is None):
            raise UsageError("give --csr FILE or --csr-dir DIR (one of them)")
        if csr_dir is not None and (name or san):
            raise UsageError("--name and --san name one request: use them with --csr")
        recipe = load(recipe_file, out, warn=False)
        sign(recipe, find_openssl(openssl, recipe), role.value, csr, csr_dir, name, list(san or []), days, dry_run, say)
        return 0
