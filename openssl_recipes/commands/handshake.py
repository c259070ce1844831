"""`openssl-recipes handshake`: live two-way TLS checks on 127.0.0.1, no broker needed."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import DEFAULT_RECIPE, OpensslOption, OutOption, RecipeOption, find_openssl, handle_errors, load


def register(app: typer.Typer) -> None:
    @app.command("handshake")
    @handle_errors
    def handshake_command(
        recipe: RecipeOption = DEFAULT_RECIPE,
        out: OutOption = None,
        openssl: OpensslOption = None,
        timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds for each connection.")] = 10.0,
    ) -> int:
        """Serve each server certificate with Python's strict TLS and connect with each client
        certificate (by every name and address), without one, and with a foreign one."""
        from ..errors import UsageError
        from ..handshake import run_handshakes
        from ..secrets import resolve

        loaded = load(recipe, out, warn=False)
        if not loaded.servers:
            raise UsageError("the recipe has no servers: nothing to serve")
        missing = [leaf.cert_file for leaf in loaded.leaves if not (loaded.output_dir / leaf.cert_file).exists()]
        if missing:
            raise UsageError(f"{', '.join(missing)} missing in {loaded.output_dir}: run `openssl-recipes build` first")
        cases = run_handshakes(loaded, resolve(loaded.secrets()), find_openssl(openssl).command, timeout)
        for case in cases:
            typer.echo(case.line())
        failed = sum(not case.ok for case in cases)
        typer.echo(f"{len(cases) - failed} of {len(cases)} cases as expected" + (f", {failed} not" if failed else ""))
        return 1 if failed else 0
